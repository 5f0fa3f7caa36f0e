"""DeadLetter in the store: kept once per event key for ``GET /dlq``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import DeadLetter

from ..actions.chain import clean
from ..dlq.models import DeadLetterRow

__all__ = ["keep_dead_letter"]


async def keep_dead_letter(conn: AsyncConnection, event: DeadLetter, key: str, now: datetime) -> None:
    exists = (await conn.execute(select(DeadLetterRow.event_id).where(DeadLetterRow.event_id == key))).first()
    if exists:
        return
    await conn.execute(
        insert(DeadLetterRow).values(
            event_id=key,
            issue_id=event.issue_id,
            original_topic=event.original_topic,
            partition=event.partition,
            offset=event.offset,
            consumer_group=event.consumer_group,
            error_type=event.error_type,
            error=clean(event.error),
            attempts=event.attempts,
            permanent=event.permanent,
            key_b64=event.key_b64,
            value_b64=event.value_b64,
            headers=clean(dict(event.headers)),
            occurred_at=event.occurred_at,
            recorded_at=now,
        )
    )
