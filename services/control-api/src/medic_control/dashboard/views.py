"""The dashboard at /dashboard/agent-control: server-rendered pages and fragments, a small script, SSE.

The page is rendered on the server (Jinja2); ``static/dashboard.js`` refreshes fragments, follows
the live feed (``/api/v1/stream``) and sends the operator's commands to the same JSON API as the
CLI, with the session cookie and the CSRF header.
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import utcnow

from ..actions import service as audit
from ..actions.models import Action
from ..approvals import service as approvals
from ..auth.schemas import Principal, Role
from ..config import service as config_service
from ..context import ControlContext, get_context
from ..deps import SESSION_COOKIE, authenticate_secret
from ..issues import service as issues
from ..issues.presentation import deployed_stages, status_label
from ..metrics import service as metrics
from ..review import service as review
from ..strategies import service as strategies
from .charts import bar_chart, stacked_bar_chart

__all__ = ["mount_static", "router"]

BASE = "/dashboard/agent-control"
router = APIRouter(prefix=BASE, include_in_schema=False)
_env = Environment(loader=PackageLoader("medic_control.dashboard", "templates"), autoescape=select_autoescape(["html"]))
_env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, default=str, ensure_ascii=False)
_env.globals["BASE"] = BASE
_env.globals["status_label"] = status_label

FRAGMENTS = ("status", "agents", "approvals", "issues", "metrics", "strategies", "audit")
#: Actions the live feed shows at page load, before the stream delivers new ones.
FEED_BACKFILL = 30


def mount_static(app: FastAPI) -> None:
    """Serve the dashboard's script and stylesheet."""
    app.mount(
        "/dashboard/static",
        StaticFiles(directory=str(resources.files("medic_control.dashboard") / "static")),
        name="dashboard-static",
    )


def _render(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


async def _session(request: Request, ctx: Annotated[ControlContext, Depends(get_context)]) -> Principal | None:
    secret = request.cookies.get(SESSION_COOKIE)
    return await authenticate_secret(ctx, secret) if secret else None


Session = Annotated[Principal | None, Depends(_session)]
Ctx = Annotated[ControlContext, Depends(get_context)]


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    """The login form (paste an API token)."""
    return _render("login.html", error=None)


@router.post("/login")
async def login(request: Request, ctx: Ctx) -> Response:
    """Check the token and keep it in an HttpOnly, SameSite=Strict cookie."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = (form.get("token") or [""])[0].strip()
    principal = await authenticate_secret(ctx, secret) if secret else None
    if principal is None:
        return _render("login.html", status_code=401, error="That token is not valid.")
    response = RedirectResponse(BASE, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="strict", secure=ctx.settings.cookie_secure, path="/", max_age=12 * 3600
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    """Forget the session cookie."""
    response = RedirectResponse(f"{BASE}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _agents(ctx: ControlContext, conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(Action.service, func.max(Action.recorded_at)).group_by(Action.service))).all()
    last = {r[0]: r[1] for r in rows}

    async def probe(client: httpx.AsyncClient, name: str, url: str) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = await client.get(url.rstrip("/") + "/healthz")
            body = response.json() if response.status_code == 200 else {}
            healthy = response.status_code == 200 and body.get("status") == "ok"
            return {
                "name": name,
                "url": url,
                "healthy": healthy,
                "paused": bool(body.get("paused")),
                "pause_reason": body.get("pause_reason") or "",
                "uptime_s": body.get("uptime_s"),
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "error": None if healthy else f"HTTP {response.status_code}",
                "last_action": last.get(name),
            }
        except (httpx.HTTPError, ValueError) as exc:
            return {
                "name": name,
                "url": url,
                "healthy": False,
                "paused": None,
                "pause_reason": "",
                "uptime_s": None,
                "latency_ms": None,
                "error": type(exc).__name__,
                "last_action": last.get(name),
            }

    async with httpx.AsyncClient(timeout=ctx.settings.health_timeout_s) as client:
        probes = await asyncio.gather(*(probe(client, n, u) for n, u in sorted(ctx.settings.service_urls.items())))
    known = {p["name"] for p in probes}
    for name, at in sorted(last.items()):
        if name not in known and name != "control-api":
            probes.append(
                {
                    "name": name,
                    "url": None,
                    "healthy": None,
                    "paused": None,
                    "pause_reason": "",
                    "uptime_s": None,
                    "latency_ms": None,
                    "error": "no health URL configured",
                    "last_action": at,
                }
            )
    return list(probes)


def _charts(summary: Any) -> dict[str, str]:
    days = [p.day.strftime("%a %d") for p in summary.per_day]
    return {
        "issues": stacked_bar_chart(
            labels=days,
            series={s: [p.by_severity.get(s, 0) for p in summary.per_day] for s in ("P0", "P1", "P2", "P3", "P4")},
            title="Issues per day by severity",
        ),
        "ttf": bar_chart(
            labels=days,
            values=[round((p.mean_time_to_fix_s or 0) / 60, 1) for p in summary.per_day],
            title="Mean time to fix (minutes)",
            css="bar-ttf",
        ),
        "success": bar_chart(
            labels=days,
            values=[round(100 * p.successful_deployments / p.deployments) if p.deployments else 0 for p in summary.per_day],
            title="Deployment success rate (%)",
            css="bar-ok",
            max_value=100,
        ),
        "rollbacks": bar_chart(
            labels=days, values=[p.rollbacks for p in summary.per_day], title="Rollbacks per day", css="bar-bad"
        ),
    }


def _strategy_charts(report: Any) -> dict[str, str]:
    """Per strategy: its success rate (%) per period."""
    return {
        s.strategy: bar_chart(
            # The rate in the label too: a period whose fixes all failed (0%) reads apart from one without a verdict (–).
            labels=[
                p.start.strftime("%d %b ") + (f"{round(100 * p.success_rate)}%" if p.success_rate is not None else "–")
                for p in s.periods
            ],
            values=[round(100 * p.success_rate) if p.success_rate is not None else 0 for p in s.periods],
            title=f"{s.strategy}: success rate (%)",
            css="bar-ok",
            max_value=100,
        )
        for s in report.strategies
    }


async def _issue_facts(conn: AsyncConnection, issue_ids: list[str]) -> dict[str, Any]:
    """What the issue rows' labels and buttons depend on: pending approvals and what is deployed now."""
    return {
        "pending_ids": await approvals.pending_issue_ids(conn, issue_ids),
        "deployed": await issues.deployed_stages_of(conn, issue_ids),
    }


async def _fragment_values(name: str, ctx: ControlContext, conn: AsyncConnection, principal: Principal) -> dict[str, Any]:
    values: dict[str, Any] = {
        "principal": principal,
        "can_operate": principal.can(Role.OPERATOR),
        "can_admin": principal.can(Role.ADMIN),
    }
    if name == "status":
        values["state"] = await config_service.state(conn)
        values["config"] = await config_service.current_config(conn)
    elif name == "agents":
        values["agents"] = await _agents(ctx, conn)
    elif name == "approvals":
        values["approvals"] = (await approvals.list_approvals(conn, status="pending", limit=50)).items
    elif name == "issues":
        page = await issues.list_issues(conn, filters=issues.IssueFilter(), limit=25, cursor=None)
        values["page"] = page
        values.update(await _issue_facts(conn, [i.id for i in page.items]))
    elif name == "metrics":
        summary = await metrics.summary(conn, days=7)
        values["summary"] = summary
        values["charts"] = _charts(summary)
    elif name == "strategies":
        report = await strategies.report(conn, days=28, bucket_days=7)
        values["strategies"] = report
        values["strategy_charts"] = _strategy_charts(report)
    elif name == "audit":
        values["actions"] = await audit.list_actions(conn, filters=audit.ActionFilter(), limit=50)
    return values


@router.get("")
async def dashboard(request: Request, ctx: Ctx, principal: Session) -> Response:
    """The whole dashboard (redirects to the login form without a valid session)."""
    if principal is None:
        return RedirectResponse(f"{BASE}/login", status_code=303)
    values: dict[str, Any] = {"now": utcnow()}
    async with ctx.read_engine.connect() as conn:
        for name in FRAGMENTS:
            values.update(await _fragment_values(name, ctx, conn, principal))
        # the live feed starts with the latest audited actions, not empty: the stream adds what follows
        values["feed"] = await audit.list_actions(conn, filters=audit.ActionFilter(), limit=FEED_BACKFILL)
        values["feed_after"], _ = await audit.head(conn)
    return _render("dashboard.html", **values)


@router.get("/fragments/{name}")
async def fragment(
    name: Annotated[str, Path(pattern="^(status|agents|approvals|issues|metrics|strategies|audit)$")],
    ctx: Ctx,
    principal: Session,
) -> Response:
    """One section of the page, re-rendered (the script refreshes sections with these)."""
    if principal is None:
        return Response(status_code=401)
    async with ctx.read_engine.connect() as conn:
        values = await _fragment_values(name, ctx, conn, principal)
    return _render(f"_{name}.html", **values)


@router.get("/issues/{issue_id}")
async def issue_page(issue_id: Annotated[str, Path(max_length=200)], ctx: Ctx, principal: Session) -> Response:
    """One issue: diagnosis, fix diff, tests, deployments, approvals and its timeline."""
    if principal is None:
        return RedirectResponse(f"{BASE}/login", status_code=303)
    async with ctx.read_engine.connect() as conn:
        detail = await issues.get_issue(conn, issue_id=issue_id)
    return _render(
        "issue.html",
        issue=detail,
        principal=principal,
        can_operate=principal.can(Role.OPERATOR),
        approval_pending=any(a.status == "pending" for a in detail.approvals),
        deployed=deployed_stages((d.stage, d.outcome) for d in detail.deployments),
    )


@router.get("/logs")
async def logs_page(ctx: Ctx, principal: Session) -> Response:
    """Each Medic service's recent log lines (read through ``GET /api/v1/agents/{name}/logs``)."""
    if principal is None:
        return RedirectResponse(f"{BASE}/login", status_code=303)
    services = [ctx.settings.service_name, *sorted(ctx.settings.service_urls)]
    return _render("logs.html", services=services, selected=services[0], principal=principal)


@router.get("/review")
async def review_page(ctx: Ctx, principal: Session) -> Response:
    """The weekly review: the week's figures beside the seed's targets, and the P4 issues to decide on."""
    if principal is None:
        return RedirectResponse(f"{BASE}/login", status_code=303)
    async with ctx.read_engine.connect() as conn:
        week = await review.weekly(conn, until=ctx.clock())
    return _render("review.html", review=week, principal=principal, can_operate=principal.can(Role.OPERATOR))
