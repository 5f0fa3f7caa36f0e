"""Consuming with delivery guarantees: batches, the inbox, retries, the DLQ, offset commits, leaving groups.

Each delivery batch is handled in one store transaction: already-processed event ids are skipped,
each handler runs with a :class:`HandlerContext` (its connection, its outbox), the processed ids
are recorded, and only after that transaction commits are the Kafka offsets committed. A handler
that raises sends the batch down the slow path: one message per transaction, each retried
``delivery_attempts`` times with backoff, then dead-lettered to ``medic.dlq`` with its original
bytes and error headers, while the messages behind it go on. Malformed messages (not JSON, not a
known event, failing validation) are permanent errors and are dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import DeadLetter, Envelope, event_adapter

from ..observability import extract_context
from ..store import outbox
from .codec import HEADER_ATTEMPTS, HEADER_ERROR, HEADER_ERROR_TYPE, Decoded, decode_record
from .context import BatchHandler, Handler, HandlerContext

if TYPE_CHECKING:
    from . import Bus

__all__ = ["CommitOnRevoke", "Consumer", "Subscription"]

log = logging.getLogger("medic.bus")
tracer = trace.get_tracer("medic.bus")

EventT = TypeVar("EventT", bound=Envelope)


@dataclass(slots=True)
class Subscription(Generic[EventT]):
    """A handler registered for a topic (or several): the events it accepts and its consumer group."""

    name: str
    #: The topic, or the subscribed topics joined by commas (metric label and log name).
    topic: str
    group_id: str
    accepts: tuple[type[Envelope], ...]
    handler: Handler
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Optional: handles a whole delivery batch at once (``handler`` still serves the one-at-a-time retries).
    batch_handler: BatchHandler | None = None
    #: False for a batch handler that is idempotent on event ids itself: no inbox lookups or rows for it.
    inbox: bool = True
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    pending: dict[TopicPartition, int] = field(default_factory=dict)
    subscriber: Any = None


class _BatchFailed(Exception):
    """A handler raised inside a batch: which message, and why."""

    def __init__(self, item: Decoded, cause: Exception) -> None:
        super().__init__(str(cause))
        self.item = item
        self.cause = cause


class CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commit what was processed before partitions move, so the next owner does not redo it."""

    def __init__(self, consumer: Consumer, sub: Subscription[Any]) -> None:
        self.consumer = consumer
        self.sub = sub

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self.sub.lock:
            await self.consumer.commit(self.sub)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        # Positions come from the group's committed offsets now; what this instance remembered
        # may belong to a log that no longer exists (a broker that restarted without its state).
        for tp in assigned:
            self.sub.committed.pop(tp, None)
            self.sub.pending.pop(tp, None)


class Consumer:
    """Runs the bus's subscriptions' handlers on their delivery batches, with Medic's guarantees."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._adapter = event_adapter()
        self._metric_children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def _observe(self, topic: str, event_type: str, seconds: float) -> None:
        metrics = self.bus.metrics
        key = (topic, event_type)
        children = self._metric_children.get(key)
        if children is None:
            children = (
                metrics.latency.labels(metrics.service, topic),
                metrics.handled.labels(metrics.service, topic, event_type),
            )
            self._metric_children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    async def dispatch(self, sub: Subscription[Any], records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Handle one delivery batch of ``sub``, then commit its offsets."""
        if not records:
            return
        bus = self.bus
        async with sub.lock:
            decoded = [decode_record(self._adapter, r) for r in records]
            wanted = [d for d in decoded if d.event is not None and isinstance(d.event, sub.accepts)]
            emitted = 0
            try:
                emitted = await self._handle_batch(sub, wanted)
            except _BatchFailed as failure:
                # The slow path isolates the failing message: one message per transaction, retried.
                bus.metrics.failed.labels(bus.metrics.service, sub.topic, type(failure.cause).__name__).inc()
                log.warning(
                    "handler failed on %s offset %d: %s; retrying one message at a time",
                    sub.topic,
                    failure.item.record.offset,
                    failure.cause,
                )
                for d in wanted:
                    emitted += await self._handle_with_retries(sub, d, used=1 if d is failure.item else 0)
            for d in decoded:
                if d.error is not None:
                    await self._dead_letter(sub, d, d.error, attempts=1, permanent=True)
            for r in records:
                tp = TopicPartition(r.topic, r.partition)
                sub.pending[tp] = max(sub.pending.get(tp, -1), r.offset + 1)
            await self.commit(sub)
        for hook in bus.after_commit:
            hook()
        if emitted:
            bus.relay.notify()

    async def _handle_batch(self, sub: Subscription[Any], items: list[Decoded]) -> int:
        if not items:
            return 0
        if sub.batch_handler is not None:
            return await self._handle_whole_batch(sub, sub.batch_handler, items)
        store = self.bus.store
        rows: list[dict[str, Any]] = []
        async with store.transaction() as conn:
            done = await store.already_processed(conn, sub.name, [d.event.event_id for d in items if d.event])
            handled: list[str] = []
            for d in items:
                try:
                    rows.extend(await self._run_handler(sub, conn, d, done, handled))
                except Exception as exc:
                    raise _BatchFailed(d, exc) from exc
            await store.mark_processed(conn, sub.name, handled)
            if rows:
                await conn.execute(outbox.insert(), rows)
        return len(rows)

    async def _handle_whole_batch(self, sub: Subscription[Any], batch_handler: BatchHandler, items: list[Decoded]) -> int:
        """One call of the batch handler for the batch's new events, in one transaction."""
        bus = self.bus
        store = bus.store
        rows: list[dict[str, Any]] = []
        async with store.transaction() as conn:
            done = (
                await store.already_processed(conn, sub.name, [d.event.event_id for d in items if d.event])
                if sub.inbox
                else set()
            )
            todo: list[Decoded] = []
            seen: set[str] = set()
            for d in items:
                assert d.event is not None
                if d.event.event_id in done or d.event.event_id in seen:
                    bus.metrics.duplicates.labels(bus.metrics.service, sub.topic).inc()
                    continue
                seen.add(d.event.event_id)
                todo.append(d)
            if not todo:
                return 0
            ctx = HandlerContext(conn, todo[0].delivery, bus.topics, bus.producer, store)
            started = time.perf_counter()
            try:
                with tracer.start_as_current_span(
                    f"consume {sub.topic}",
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": sub.topic,
                        "messaging.batch.message_count": len(todo),
                    },
                ):
                    await batch_handler([(d.event, d.delivery) for d in todo], ctx)
            except Exception as exc:
                raise _BatchFailed(todo[0], exc) from exc
            rows = ctx.take_rows()
            if sub.inbox:
                await store.mark_processed(conn, sub.name, [d.event.event_id for d in todo if d.event])
            if rows:
                await conn.execute(outbox.insert(), rows)
        elapsed = (time.perf_counter() - started) / len(todo)
        for d in todo:
            assert d.event is not None
            self._observe(d.record.topic, d.event.event_type, elapsed)
        return len(rows)

    async def _run_handler(
        self, sub: Subscription[Any], conn: AsyncConnection, d: Decoded, done: set[str], handled: list[str]
    ) -> list[dict[str, Any]]:
        """Run one handler; return the outbox rows it emitted (written by the caller, in the same transaction)."""
        bus = self.bus
        event = d.event
        assert event is not None
        if event.event_id in done or event.event_id in handled:
            bus.metrics.duplicates.labels(bus.metrics.service, sub.topic).inc()
            return []
        ctx = HandlerContext(conn, d.delivery, bus.topics, bus.producer, bus.store)
        started = time.perf_counter()
        with tracer.start_as_current_span(
            f"consume {sub.topic}",
            context=extract_context(d.record.headers or ()),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": sub.topic,
                "medic.event_id": event.event_id,
                "medic.event_type": event.event_type,
                "medic.issue_id": event.issue_id or "",
            },
        ):
            await sub.handler(event, ctx)
            rows = ctx.take_rows()
        handled.append(event.event_id)
        self._observe(sub.topic, event.event_type, time.perf_counter() - started)
        return rows

    async def _handle_with_retries(self, sub: Subscription[Any], d: Decoded, *, used: int = 0) -> int:
        bus = self.bus
        store = bus.store
        attempts = bus.settings.delivery_attempts
        backoff = bus.settings.delivery_backoff_ms / 1000
        if used >= attempts:
            await self._dead_letter(sub, d, RuntimeError("failed in its batch"), attempts=used, permanent=False)
            return 0
        if used:
            await asyncio.sleep(backoff)
        for attempt in range(used + 1, attempts + 1):
            try:
                async with store.transaction() as conn:
                    assert d.event is not None
                    done = await store.already_processed(conn, sub.name, [d.event.event_id]) if sub.inbox else set()
                    handled: list[str] = []
                    rows = await self._run_handler(sub, conn, d, done, handled)
                    if sub.inbox:
                        await store.mark_processed(conn, sub.name, handled)
                    if rows:
                        await conn.execute(outbox.insert(), rows)
                return len(rows)
            except Exception as exc:
                bus.metrics.failed.labels(bus.metrics.service, sub.topic, type(exc).__name__).inc()
                log.warning(
                    "handler failed (attempt %d/%d) on %s offset %d: %s",
                    attempt,
                    attempts,
                    d.record.topic,
                    d.record.offset,
                    exc,
                    extra={"issue_id": getattr(d.event, "issue_id", None)},
                )
                if attempt == attempts:
                    await self._dead_letter(sub, d, exc, attempts=attempt, permanent=False)
                    return 0
                await asyncio.sleep(backoff * (2 ** (attempt - 1)))
        return 0

    async def _dead_letter(self, sub: Subscription[Any], d: Decoded, exc: Exception, *, attempts: int, permanent: bool) -> None:
        bus = self.bus
        r = d.record
        letter = DeadLetter(
            producer=bus.producer,
            issue_id=getattr(d.event, "issue_id", None) or (r.key.decode("utf-8", "replace") if r.key else None),
            original_topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            key_b64=base64.b64encode(r.key).decode() if r.key else None,
            value_b64=base64.b64encode(r.value or b"").decode(),
            headers=d.headers,
            consumer_group=sub.group_id,
            error_type=type(exc).__name__,
            error=str(exc)[:10_000],
            attempts=attempts,
            permanent=permanent,
        )
        error_headers = {
            HEADER_ERROR_TYPE: type(exc).__name__,
            HEADER_ERROR: str(exc)[:500].encode("ascii", "replace").decode(),
            HEADER_ATTEMPTS: str(attempts),
            "medic-original-topic": r.topic,
            "medic-original-partition": str(r.partition),
            "medic-original-offset": str(r.offset),
        }
        # Published (and acknowledged) before the offset is committed: the message is never lost.
        await bus.publish_now(letter, headers=error_headers)
        bus.metrics.dead_lettered.labels(bus.metrics.service, r.topic).inc()
        log.error("dead-lettered %s[%d]@%d after %d attempt(s): %s", r.topic, r.partition, r.offset, attempts, exc)

    async def commit(self, sub: Subscription[Any]) -> None:
        """Commit the offsets ``sub`` has processed on the partitions it still holds (the caller holds ``sub.lock``)."""
        offsets = {tp: off for tp, off in sub.pending.items() if sub.committed.get(tp, -1) < off}
        consumer = getattr(sub.subscriber, "consumer", None)
        if not offsets or consumer is None:
            return
        assigned = consumer.assignment()
        offsets = {tp: off for tp, off in offsets.items() if tp in assigned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The work is durable and recorded as processed: a redelivery is skipped, nothing is lost.
            log.warning("offset commit failed on %s: %s", sub.topic, exc)
            return
        sub.committed.update(offsets)

    async def leave_groups(self) -> None:
        """Stop the consumers one at a time, so their groups see one LeaveGroup after another.

        FastStream stops all subscribers at once, so a group's leader often leaves while the group
        re-forms after another member's leave; the embedded broker (Tansu) then keeps the departed
        leader and every later join hangs under it (``kafka_compat`` fix 3 recovers from that). In
        subscription order the leader, first to join, leaves first while the group is still
        formed. One leave at a time costs a round trip per consumer; ``broker.stop`` after it finds
        them stopped already.
        """
        for sub in self.bus.subscriptions:
            if sub.subscriber is not None:
                await sub.subscriber.stop()
