"""Listing issues (filters, cursor pagination) and assembling one issue's full story."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import pydantic_core
from sqlalchemy import and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from medic_contracts import CommandName, ControlCommand
from medic_runtime import Transaction

from ..actions import service as audit
from ..actions.models import Action
from ..actions.schemas import ActionOut
from ..approvals import service as approvals
from ..auth.schemas import Principal
from ..config.service import lock_audit, publish_command
from ..db import utc
from ..errors import Conflict, NotFound
from ..feedback import service as feedback
from ..pagination import decode_cursor, encode_cursor
from .models import Issue
from .presentation import deployed_stages
from .schemas import CommandAcceptedIssue, DeploymentOut, FixOut, IssueDetail, IssuePage, IssueSummary

__all__ = ["IssueFilter", "get_issue", "list_issues", "list_issues_json", "request_rollback"]

_SUMMARY_COLUMNS = [getattr(Issue, name) for name in IssueSummary.model_fields]


@dataclass(frozen=True, slots=True)
class IssueFilter:
    """Filters of the issue list."""

    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    issue_type: tuple[str, ...] = ()
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_issues(conn: AsyncConnection, *, filters: IssueFilter, limit: int, cursor: str | None) -> IssuePage:
    """Issues newest first (by detection time), one page at a time."""
    conds: list[Any] = []
    if filters.status:
        conds.append(Issue.status.in_(filters.status))
    if filters.severity:
        conds.append(Issue.severity.in_(filters.severity))
    if filters.issue_type:
        conds.append(Issue.issue_type.in_(filters.issue_type))
    if filters.target:
        conds.append(Issue.target == filters.target)
    if filters.since:
        conds.append(Issue.detected_at >= filters.since)
    if filters.until:
        conds.append(Issue.detected_at < filters.until)
    if cursor:
        at, issue_id = decode_cursor(cursor)
        conds.append(or_(Issue.detected_at < at, and_(Issue.detected_at == at, Issue.id < issue_id)))
    stmt = (
        select(*_SUMMARY_COLUMNS).where(and_(true(), *conds)).order_by(Issue.detected_at.desc(), Issue.id.desc()).limit(limit + 1)
    )
    rows = (await conn.execute(stmt)).mappings().all()
    items = [IssueSummary.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].detected_at, items[-1].id) if len(rows) > limit else None
    return IssuePage(items=items, next_cursor=next_cursor)


def page_query(*, schema: str, filters: IssueFilter, limit: int, cursor: str | None) -> tuple[str, list[Any]]:
    """PostgreSQL text and arguments of one page of :func:`list_issues` (same filters, order and cursor).

    The page comes back as one row: the items as IssueSummary's JSON (each row's ``summary_json``, kept
    by a trigger, see migration 0004) joined by commas, how many rows matched (the page plus one means
    there is a next page) and the page's last row's position, the next cursor.
    """
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    conds: list[str] = []
    for column, values in (("status", filters.status), ("severity", filters.severity), ("issue_type", filters.issue_type)):
        if values:
            conds.append(f"{column} IN ({', '.join(arg(v) for v in values)})")
    if filters.target:
        conds.append(f"target = {arg(filters.target)}")
    if filters.since:
        conds.append(f"detected_at >= {arg(utc(filters.since))}")
    if filters.until:
        conds.append(f"detected_at < {arg(utc(filters.until))}")
    if cursor:
        at, issue_id = decode_cursor(cursor)
        conds.append(f"(detected_at, id) < ({arg(at)}, {arg(issue_id)})")
    where = " AND ".join(conds) or "true"
    # One row back: PostgreSQL joins the page's items (numbered in page order) and names the last one,
    # whose position is the next cursor when there is a row beyond the page.
    size = arg(limit)
    sql = (
        f"SELECT string_agg(item, ',' ORDER BY n) FILTER (WHERE n <= {size}) AS items, count(*) AS found, "  # noqa: S608
        f"max(detected_at) FILTER (WHERE n = {size}) AS last_at, max(id) FILTER (WHERE n = {size}) AS last_id "
        "FROM (SELECT summary_json AS item, detected_at, id, row_number() OVER (ORDER BY detected_at DESC, id DESC) AS n "
        f'FROM "{schema}".agent_issues WHERE {where} ORDER BY detected_at DESC, id DESC LIMIT {size} + 1) page'
    )
    return sql, args


async def list_issues_json(
    *, engine: AsyncEngine, pool: asyncpg.Pool | None, schema: str | None, filters: IssueFilter, limit: int, cursor: str | None
) -> bytes:
    """One page of :func:`list_issues` as the JSON of :class:`IssuePage`.

    The issue list is the API's hottest read. On PostgreSQL (``pool`` and ``schema`` given) it is one
    prepared statement on a plain asyncpg pool that joins the rows' stored IssueSummary JSON, so no
    value is converted or validated in Python again (that was most of the request). Elsewhere (SQLite)
    it is :func:`list_issues` serialized.
    """
    if pool is None or schema is None:
        async with engine.connect() as conn:
            page = await list_issues(conn, filters=filters, limit=limit, cursor=cursor)
        return page.model_dump_json().encode()
    sql, args = page_query(schema=schema, filters=filters, limit=limit, cursor=cursor)
    page = await pool.fetchrow(sql, *args)
    assert page is not None  # an aggregate always answers one row
    next_cursor = encode_cursor(page["last_at"], page["last_id"]) if page["found"] > limit else None
    return f'{{"items":[{page["items"] or ""}],"next_cursor":{pydantic_core.to_json(next_cursor).decode()}}}'.encode()


def _fix(timeline: list[ActionOut]) -> FixOut | None:
    for action in reversed(timeline):
        if action.event_type == "fix_committed":
            event = action.details.get("event") or {}
            return FixOut(
                branch=event.get("branch"),
                commit_sha=event.get("commit_sha"),
                pr_url=event.get("pr_url"),
                diff_hash=event.get("diff_hash"),
                diff=event.get("diff"),
                files_changed=list(event.get("files_changed") or []),
                tests=event.get("tests"),
            )
    return None


def _deployments(timeline: list[ActionOut]) -> list[DeploymentOut]:
    out: list[DeploymentOut] = []
    for action in timeline:
        if action.event_type == "deployment_result":
            event = action.details.get("event") or {}
            out.append(
                DeploymentOut(
                    at=action.occurred_at,
                    stage=str(event.get("stage", "")),
                    outcome=str(event.get("outcome", "")),
                    commit_sha=event.get("commit_sha"),
                    reason=str(event.get("reason", "")),
                    checks=list(event.get("checks") or []),
                )
            )
    return out


async def get_issue(conn: AsyncConnection, *, issue_id: str, timeline_limit: int = 2000) -> IssueDetail:
    """An issue with its diagnosis, fix, deployments, approvals, feedback and timeline."""
    row = (await conn.execute(select(Issue).where(Issue.id == issue_id))).mappings().first()
    if row is None:
        raise NotFound("no such issue")
    actions = await audit.list_actions(
        conn, filters=audit.ActionFilter(issue_id=issue_id), limit=timeline_limit, newest_first=False
    )
    timeline = [ActionOut.model_validate(a, from_attributes=True) for a in actions]
    return IssueDetail.model_validate(
        {
            **dict(row),
            "links": row["links"] or [],
            "fix": _fix(timeline),
            "deployments": _deployments(timeline),
            "approvals": (await approvals.list_approvals(conn, status=None, issue_id=issue_id, limit=500)).items,
            "feedback": await feedback.for_issue(conn, issue_id=issue_id),
            "timeline": timeline,
        }
    )


async def require_issue(conn: AsyncConnection, *, issue_id: str) -> Any:
    """The issue row; :class:`NotFound` when absent."""
    row = (await conn.execute(select(Issue.id, Issue.target, Issue.deployment_stage).where(Issue.id == issue_id))).first()
    if row is None:
        raise NotFound("no such issue")
    return row


async def deployed_stages_of(conn: AsyncConnection, issue_ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """For each issue, the stages running its fix now (from its audited deployment results, in order)."""
    results: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if issue_ids:
        stmt = (
            select(Action.issue_id, Action.action)
            .where(Action.event_type == "deployment_result", Action.issue_id.in_(list(issue_ids)))
            .order_by(Action.seq)
        )
        for issue_id, action in (await conn.execute(stmt)).all():
            _, stage, outcome = [*action.split(".", 2), "", ""][:3]  # deployment.<stage>.<outcome>
            results[str(issue_id)].append((stage, outcome))
    return {issue_id: deployed_stages(results.get(issue_id, ())) for issue_id in issue_ids}


async def request_rollback(tx: Transaction, *, issue_id: str, reason: str, principal: Principal) -> CommandAcceptedIssue:
    """Broadcast a manual ``rollback`` ControlCommand for an issue whose fix is deployed now; audited."""
    await lock_audit(tx)
    row = await require_issue(tx.conn, issue_id=issue_id)
    if not (await deployed_stages_of(tx.conn, [issue_id]))[issue_id]:
        raise Conflict("nothing of this issue's fix is deployed")
    command = ControlCommand(
        producer=tx.producer,
        issue_id=issue_id,
        command=CommandName.ROLLBACK,
        actor=principal.identity,
        reason=reason,
        target=row.target or None,
    )
    await publish_command(
        tx, command=command, principal=principal, summary=f"manual rollback of {issue_id} by {principal.identity}"
    )
    return CommandAcceptedIssue(command=command.command.value, event_id=command.event_id, issue_id=issue_id)
