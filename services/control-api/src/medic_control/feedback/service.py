"""Recording and reading fix feedback."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import CommandName, ControlCommand, new_event_id, utcnow
from medic_runtime import Transaction

from ..actions import service as audit
from ..auth.schemas import Principal
from ..config.service import publish_command
from ..errors import NotFound
from ..issues.models import Issue
from .models import FixFeedback
from .schemas import FalsePositiveIn, FeedbackIn, FeedbackOut

__all__ = ["for_issue", "mark_false_positive", "record"]


async def record(conn: AsyncConnection, *, issue_id: str, body: FeedbackIn, principal: Principal) -> FeedbackOut:
    """Store a rating for an issue and audit it."""
    await audit.lock(conn)
    now = utcnow()
    result = await conn.execute(
        insert(FixFeedback)
        .values(issue_id=issue_id, rating=body.rating, comment=body.comment, author=principal.identity, created_at=now)
        .returning(FixFeedback.id)
    )
    feedback_id = int(result.scalar_one())
    await audit.append(
        conn,
        [
            audit.AuditRecord(
                event_id=new_event_id(),
                event_type="feedback",
                issue_id=issue_id,
                occurred_at=now,
                service="control-api",
                actor=principal.identity,
                action="feedback.recorded",
                status="succeeded",
                summary=f"{principal.identity} rated the fix {body.rating}/5",
                reasoning=body.comment or None,
                details={"rating": body.rating},
            )
        ],
    )
    return FeedbackOut(
        id=feedback_id, issue_id=issue_id, rating=body.rating, comment=body.comment, author=principal.identity, created_at=now
    )


async def for_issue(conn: AsyncConnection, *, issue_id: str) -> list[FeedbackOut]:
    """Every rating of an issue, oldest first."""
    rows = (await conn.execute(select(FixFeedback).where(FixFeedback.issue_id == issue_id).order_by(FixFeedback.id))).all()
    return [FeedbackOut.model_validate(r, from_attributes=True) for r in rows]


async def mark_false_positive(tx: Transaction, *, issue_id: str, body: FalsePositiveIn, principal: Principal) -> ControlCommand:
    """Mark (or unmark) an issue as a false positive: stored on the issue, broadcast as a ``feedback`` command, audited.

    The mark feeds the weekly review's false-positive rate and stops SLA escalations of the issue.
    """
    await audit.lock(tx.conn)
    row = (await tx.conn.execute(select(Issue.id, Issue.target).where(Issue.id == issue_id))).first()
    if row is None:
        raise NotFound("no such issue")
    await tx.conn.execute(
        update(Issue)
        .where(Issue.id == issue_id)
        .values(false_positive=body.false_positive, false_positive_by=principal.identity if body.false_positive else None)
    )
    command = ControlCommand(
        producer=tx.producer,
        issue_id=issue_id,
        command=CommandName.FEEDBACK,
        actor=principal.identity,
        reason=body.reason,
        target=row.target or None,
        false_positive=body.false_positive,
    )
    verdict = "a false positive" if body.false_positive else "not a false positive"
    await publish_command(
        tx,
        command=command,
        principal=principal,
        summary=f"{principal.identity} marked {issue_id} as {verdict}",
        details={"false_positive": body.false_positive},
    )
    return command
