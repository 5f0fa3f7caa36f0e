"""GET /actions (the audit trail) and the chain's head and verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import Operator, ReadConn, Viewer
from ..errors import error_responses
from . import service
from .schemas import ActionOut, ActionPage, AuditHead, AuditVerification

router = APIRouter(tags=["audit"], responses=error_responses(401, 403, 422))


@router.get("/actions", response_model=ActionPage, summary="The audit trail, newest first, with filters")
async def list_actions(
    *,
    conn: ReadConn,
    _p: Viewer,
    issue_id: Annotated[str | None, Query(max_length=200, description="Only this issue's entries.")] = None,
    action: Annotated[str | None, Query(max_length=200, description="Step name, or a prefix such as `deployment`.")] = None,
    service_name: Annotated[str | None, Query(alias="service", max_length=200, description="Producing service.")] = None,
    status: Annotated[str | None, Query(pattern="^(started|succeeded|failed|refused|skipped)$", description="Status.")] = None,
    since: Annotated[datetime | None, Query(description="Occurred at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Occurred before (ISO 8601).")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Cursor: entries with a smaller seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
) -> ActionPage:
    """Audit entries matching the filters; follow `next_before` for older ones."""
    filters = service.ActionFilter(
        issue_id=issue_id, action=action, service=service_name, status=status, since=since, until=until, before_seq=before
    )
    rows = await service.list_actions(conn, filters=filters, limit=limit)
    items = [ActionOut.model_validate(r, from_attributes=True) for r in rows]
    return ActionPage(items=items, next_before=items[-1].seq if len(items) == limit else None)


@router.get("/audit/head", response_model=AuditHead, summary="The audit chain's head hash")
async def audit_head(conn: ReadConn, _p: Viewer) -> AuditHead:
    """The last entry's seq and hash: export it to detect later truncation."""
    seq, digest = await service.head(conn)
    return AuditHead(seq=seq, hash=digest)


@router.get("/audit/verify", response_model=AuditVerification, summary="Recompute the audit chain")
async def audit_verify(
    conn: ReadConn,
    _p: Operator,
    expected_head: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="A head hash exported earlier.")] = None,
) -> AuditVerification:
    """Recompute every hash and name the first entry that is edited, missing or out of place."""
    report = await service.verify(conn, expected_head=expected_head)
    return AuditVerification(
        ok=report.ok,
        rows=report.rows,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        first_bad_seq=report.first_bad_seq,
        first_bad_event_id=report.first_bad_event_id,
        problem=report.problem,
    )
