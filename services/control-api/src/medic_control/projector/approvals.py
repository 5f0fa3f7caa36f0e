"""ApprovalRequested in the store: a pending approval opens (or re-opens with a new diff), older ones close."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ActionStatus, ApprovalRequested

from ..actions import service as audit
from ..actions.chain import clean
from ..approvals.models import Approval

__all__ = ["open_approval"]


async def open_approval(conn: AsyncConnection, event: ApprovalRequested, now: datetime) -> list[audit.AuditRecord]:
    """Open (or re-open with a new diff) an approval; older pending ones for the same issue and step close as superseded.

    A replayed issue asks again under a new approval id: without this the old request would stay
    pending beside the new one, and stay pending after the new one is decided. Returns the audit
    entries of the approvals it superseded (keyed by this event, so a re-projection appends none).
    """
    current = (await conn.execute(select(Approval.status, Approval.diff_hash).where(Approval.id == event.approval_id))).first()
    values = {
        "issue_id": event.issue_id,
        "kind": event.kind.value,
        "requested_by": event.requested_by,
        "reason": clean(event.reason),
        "summary": clean(event.summary),
        "diff": clean(event.diff),
        "diff_hash": event.diff_hash,
        "requested_at": event.occurred_at,
        "expires_at": event.expires_at,
        "event_id": event.event_id,
    }
    if current is None:
        await conn.execute(insert(Approval).values(id=event.approval_id, status="pending", **values))
    elif current.status == "pending" and current.diff_hash != event.diff_hash:
        # A re-request with another diff replaces the pending one: approvals of the old diff no longer match.
        await conn.execute(update(Approval).where(Approval.id == event.approval_id).values(**values))
    else:
        return []
    older = (
        (
            await conn.execute(
                select(Approval.id).where(
                    Approval.issue_id == event.issue_id,
                    Approval.kind == event.kind.value,
                    Approval.status == "pending",
                    Approval.id != event.approval_id,
                    Approval.requested_at <= event.occurred_at,
                )
            )
        )
        .scalars()
        .all()
    )
    if not older:
        return []
    await conn.execute(
        update(Approval)
        .where(Approval.id.in_(older))
        .values(
            status="superseded",
            decided_by=event.requested_by,
            decided_at=now,
            decision_reason=f"superseded by {event.approval_id}",
        )
    )
    return [
        audit.AuditRecord(
            event_id=f"{event.event_id}:supersedes:{old}",
            event_type="approval",
            issue_id=event.issue_id,
            occurred_at=event.occurred_at,
            service="control-api",
            actor=event.requested_by,
            action=f"approval.superseded.{event.kind.value}",
            status=ActionStatus.SUCCEEDED.value,
            summary=f"approval {old} superseded by {event.approval_id}",
            details={"approval_id": old, "superseded_by": event.approval_id},
        )
        for old in older
    ]
