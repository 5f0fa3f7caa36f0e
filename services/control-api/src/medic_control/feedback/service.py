"""Recording and reading fix feedback."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import new_event_id, utcnow

from ..actions import service as audit
from ..auth.schemas import Principal
from .models import FixFeedback
from .schemas import FeedbackIn, FeedbackOut

__all__ = ["for_issue", "record"]


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
