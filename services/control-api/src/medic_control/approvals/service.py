"""Approvals: listed, approved or rejected once, by someone other than the requester, before expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ApprovalKind, CommandName, ControlCommand, utcnow
from medic_runtime import Transaction

from ..auth.schemas import Principal
from ..config.service import lock_audit, publish_command
from ..errors import Conflict, Forbidden, Gone, NotFound
from ..pagination import Page, decode_cursor, encode_cursor
from .models import Approval
from .schemas import ApprovalOut

__all__ = ["decide", "get", "list_approvals", "pending_issue_ids"]


def _out(row: Any, now: datetime) -> ApprovalOut:
    out = ApprovalOut.model_validate(row, from_attributes=True)
    if out.status == "pending" and out.expires_at <= now:
        return out.model_copy(update={"status": "expired"})
    return out


async def list_approvals(
    conn: AsyncConnection, *, status: str | None, issue_id: str | None = None, limit: int = 100, cursor: str | None = None
) -> Page[ApprovalOut]:
    """Approvals, newest first; ``status=pending`` leaves out expired ones, ``status=expired`` lists them."""
    now = utcnow()
    conds: list[Any] = []
    if status == "pending":
        conds += _pending(now)
    elif status == "expired":
        conds += [Approval.status.in_(("pending", "expired")), Approval.expires_at <= now]
    elif status:
        conds.append(Approval.status == status)
    if issue_id:
        conds.append(Approval.issue_id == issue_id)
    if cursor:
        at, key = decode_cursor(cursor)
        conds.append(or_(Approval.requested_at < at, and_(Approval.requested_at == at, Approval.id < key)))
    stmt = select(Approval).where(and_(true(), *conds)).order_by(Approval.requested_at.desc(), Approval.id.desc())
    rows = (await conn.execute(stmt.limit(limit + 1))).all()
    items = [_out(r, now) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].requested_at, items[-1].id) if len(rows) > limit else None
    return Page[ApprovalOut](items=items, next_cursor=next_cursor)


def _pending(now: datetime) -> list[Any]:
    """Conditions of an approval still awaiting a decision (not decided, not expired)."""
    return [Approval.status == "pending", Approval.expires_at > now]


async def pending_issue_ids(conn: AsyncConnection, issue_ids: Sequence[str]) -> set[str]:
    """Which of ``issue_ids`` have an approval awaiting a decision."""
    if not issue_ids:
        return set()
    stmt = select(Approval.issue_id).where(*_pending(utcnow()), Approval.issue_id.in_(list(issue_ids))).distinct()
    return {str(i) for i in (await conn.execute(stmt)).scalars()}


async def get(conn: AsyncConnection, *, approval_id: str) -> ApprovalOut:
    """One approval."""
    row = (await conn.execute(select(Approval).where(Approval.id == approval_id))).first()
    if row is None:
        raise NotFound("no such approval")
    return _out(row, utcnow())


async def decide(
    tx: Transaction, *, approval_id: str, approve: bool, principal: Principal, reason: str, diff_hash: str | None
) -> ApprovalOut:
    """Approve or reject a pending approval and broadcast the decision as a ControlCommand.

    Refused: an unknown id (404), a decided one (409: no replay), an expired one (410), approval
    of a different diff than the one requested (409), and approval by the requester (403).
    """
    await lock_audit(tx)
    now = utcnow()
    row = (await tx.conn.execute(select(Approval).where(Approval.id == approval_id))).first()
    if row is None:
        raise NotFound("no such approval")
    if row.status != "pending":
        raise Conflict(f"approval already {row.status}")
    if row.expires_at <= now:
        raise Gone("approval request expired")
    if approve:
        if row.requested_by == principal.identity:
            raise Forbidden("the requester of an approval cannot approve it")
        if diff_hash != row.diff_hash:
            raise Conflict("diff hash does not match the diff this approval was requested for")
    status = "approved" if approve else "rejected"
    # The status condition makes the decision single-use even under concurrent requests.
    result = await tx.conn.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == "pending")
        .values(status=status, decided_by=principal.identity, decided_at=now, decision_reason=reason)
    )
    if result.rowcount != 1:
        raise Conflict("approval already decided")
    command = ControlCommand(
        producer=tx.producer,
        issue_id=row.issue_id,
        command=CommandName.APPROVE if approve else CommandName.REJECT,
        actor=principal.identity,
        reason=reason,
        approval_id=approval_id,
        approval_kind=ApprovalKind(row.kind),
        diff_hash=row.diff_hash,
    )
    await publish_command(
        tx,
        command=command,
        principal=principal,
        summary=f"{status} {row.kind} approval {approval_id} by {principal.identity}",
        details={"approval_id": approval_id, "diff_hash": row.diff_hash, "requested_by": row.requested_by},
    )
    updated = (await tx.conn.execute(select(Approval).where(Approval.id == approval_id))).one()
    return _out(updated, now)
