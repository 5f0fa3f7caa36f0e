"""The endpoints every service process serves next to its own routes: ``/healthz``, ``/readyz``, ``/metrics``, ``/logs``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .observability import recent_logs

if TYPE_CHECKING:
    from .service import ServiceRuntime

__all__ = ["add_health_routes"]


def add_health_routes(rt: ServiceRuntime) -> None:
    """Add the health, readiness, metrics and logs routes to ``rt.http``."""

    @rt.http.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        # Alive unless the outbox has been stuck past the bound: a restart is then the way out.
        stuck = rt.outbox_stalled(rt.settings.outbox_stall_live_s)
        body = {
            "status": "outbox_stalled" if stuck else "ok",
            "service": rt.service,
            "instance": rt.settings.instance_id,
            "paused": rt.control.paused,
            "pause_reason": rt.control.pause_reason,
            "uptime_s": round(time.time() - rt.started_at, 1),
            "outbox_stalled_s": round(rt.bus.relay.stalled_for(), 1),
            "broker_recoveries": rt.broker_watch.recoveries,
        }
        return JSONResponse(body, status_code=503 if stuck else 200)

    @rt.http.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks: dict[str, bool] = {"started": rt.ready}
        checks["broker"] = rt.broker_watch.reachable and await rt.bus.ping() if rt.ready else False
        checks["store"] = await rt.store.ping()
        checks["control"] = rt.control.caught_up.is_set()
        checks["outbox_relay"] = not rt.outbox_stalled(rt.settings.outbox_stall_ready_s)
        for name, check in rt.readiness_checks.items():
            try:
                checks[name] = bool(await check())
            except Exception:
                checks[name] = False
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @rt.http.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @rt.http.get("/logs", include_in_schema=False)
    async def logs(
        limit: Annotated[int, Query(ge=1, le=2000)] = 200,
        level: Annotated[str, Query(pattern="^(debug|info|warning|error|critical)$")] = "debug",
    ) -> dict[str, Any]:
        # the process's own recent lines (bounded buffer), for the dashboard's logs view
        return {"service": rt.service, "instance": rt.settings.instance_id, "lines": recent_logs.tail(limit, level)}
