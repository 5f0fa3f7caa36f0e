"""GET /approvals, POST /approvals/{id}/approve|reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ..deps import Ctx, Operator, ReadConn, Viewer
from ..errors import error_responses
from ..pagination import Page
from . import service
from .schemas import ApprovalDecision, ApprovalOut, ApprovalRejection

router = APIRouter(prefix="/approvals", tags=["approvals"], responses=error_responses(401, 403, 422))

ApprovalId = Annotated[str, Path(min_length=1, max_length=200, description="Approval id.")]


@router.get("", response_model=Page[ApprovalOut], summary="Approval requests")
async def list_approvals(
    conn: ReadConn,
    _p: Viewer,
    status: Annotated[
        str | None, Query(pattern="^(pending|approved|rejected|expired|superseded)$", description="Filter by status.")
    ] = None,
    issue_id: Annotated[str | None, Query(max_length=200, description="Only this issue's approvals.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many per page.")] = 100,
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None,
) -> Page[ApprovalOut]:
    """Approvals, newest first (`status=pending` for those awaiting a decision)."""
    return await service.list_approvals(conn, status=status, issue_id=issue_id, limit=limit, cursor=cursor)


@router.get("/{approval_id}", response_model=ApprovalOut, summary="One approval request", responses=error_responses(404))
async def get_approval(approval_id: ApprovalId, conn: ReadConn, _p: Viewer) -> ApprovalOut:
    """An approval with its diff."""
    return await service.get(conn, approval_id=approval_id)


@router.post(
    "/{approval_id}/approve",
    response_model=ApprovalOut,
    summary="Approve (bound to the diff hash)",
    responses=error_responses(404, 409, 410, 429),
)
async def approve(approval_id: ApprovalId, body: ApprovalDecision, ctx: Ctx, principal: Operator) -> ApprovalOut:
    """Approve the diff with this hash; publishes an `approve` ControlCommand."""
    async with ctx.runtime.transaction() as tx:
        return await service.decide(
            tx, approval_id=approval_id, approve=True, principal=principal, reason=body.reason, diff_hash=body.diff_hash
        )


@router.post("/{approval_id}/reject", response_model=ApprovalOut, summary="Reject", responses=error_responses(404, 409, 410, 429))
async def reject(approval_id: ApprovalId, body: ApprovalRejection, ctx: Ctx, principal: Operator) -> ApprovalOut:
    """Reject; publishes a `reject` ControlCommand."""
    async with ctx.runtime.transaction() as tx:
        return await service.decide(
            tx, approval_id=approval_id, approve=False, principal=principal, reason=body.reason, diff_hash=None
        )
