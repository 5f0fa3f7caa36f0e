"""What a handler works with: an outbox writer (:class:`Emitter`) bound to its transaction and delivery.

Events a handler emits are not published by it: they are queued and written to the outbox in the
handler's own transaction, and the outbox relay publishes them once that transaction commits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ActionRecorded, ActionStatus, Envelope, Producer, TopicRegistry

from ..store import ServiceStore, outbox
from .codec import Delivery, encode_event

__all__ = ["BatchHandler", "Emitter", "Handler", "HandlerContext"]


class Emitter:
    """Collects events to write to the outbox in the caller's transaction."""

    def __init__(self, topics: TopicRegistry, producer: Producer) -> None:
        self.topics = topics
        self.producer = producer
        self.pending: list[tuple[str, bytes, bytes | None, dict[str, str]]] = []

    def emit(self, event: Envelope, *, topic: str | None = None, headers: dict[str, str] | None = None) -> None:
        """Queue an event for publishing once the surrounding transaction commits."""
        value, key, hdrs = encode_event(event, extra_headers=headers)
        self.pending.append((topic or self.topics.for_event(event), value, key, hdrs))

    def record(
        self,
        action: str,
        status: ActionStatus,
        summary: str,
        *,
        issue_id: str | None = None,
        reasoning: str | None = None,
        details: dict[str, Any] | None = None,
        caused_by: Envelope | None = None,
    ) -> ActionRecorded:
        """Queue an ActionRecorded for the audit trail."""
        fields: dict[str, Any] = {
            "action": action,
            "status": status,
            "summary": summary[:2000],
            "reasoning": reasoning,
            "details": details or {},
        }
        if caused_by is not None:
            event = caused_by.follow_up(ActionRecorded, producer=self.producer, **fields)
            if issue_id is not None:
                event = event.model_copy(update={"issue_id": issue_id})
        else:
            event = ActionRecorded(producer=self.producer, issue_id=issue_id, **fields)
        self.emit(event)
        return event

    def take_rows(self) -> list[dict[str, Any]]:
        """The queued events as outbox rows (and forget them)."""
        now = time.time()
        rows = [
            {"topic": t, "key": k, "value": v, "headers": json.dumps(h), "created_at": now, "attempts": 0}
            for t, v, k, h in self.pending
        ]
        self.pending.clear()
        return rows

    async def flush(self, conn: AsyncConnection) -> int:
        """Write the queued events to the outbox (in ``conn``'s transaction)."""
        rows = self.take_rows()
        if rows:
            await conn.execute(outbox.insert(), rows)
        return len(rows)


class HandlerContext(Emitter):
    """What a handler gets besides its event: its transaction, its delivery, its outbox."""

    def __init__(
        self, conn: AsyncConnection, delivery: Delivery, topics: TopicRegistry, producer: Producer, store: ServiceStore
    ) -> None:
        super().__init__(topics, producer)
        self.conn = conn
        self.delivery = delivery
        self.store = store


Handler = Callable[[Any, HandlerContext], Awaitable[None]]
#: Handles the new events of one delivery batch, with their deliveries, in one call (one transaction).
BatchHandler = Callable[[Sequence[tuple[Any, Delivery]], HandlerContext], Awaitable[None]]
