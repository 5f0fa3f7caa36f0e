"""The bus: FastStream on aiokafka, with Medic's delivery guarantees around every handler.

Publishing goes through the transactional outbox: an event is written in the same local
transaction as the state change that caused it, and the :class:`OutboxRelay` publishes it
(idempotent producer, ``acks=all``) until the broker acknowledges, then deletes it.

Consuming (:meth:`Bus.subscribe`) registers a FastStream batch subscriber with
``AckPolicy.MANUAL``. Each batch is handled in one store transaction: already-processed event ids
are skipped, each handler runs with a :class:`HandlerContext` (its connection, its outbox), the
processed ids are recorded, and only after that transaction commits are the Kafka offsets
committed. A handler that raises sends the batch down the slow path: one message per
transaction, each retried ``delivery_attempts`` times with backoff, then dead-lettered to
``medic.dlq`` with its original bytes and error headers, while the messages behind it go on.
Malformed messages (not JSON, not a known event, failing validation) are permanent errors and
are dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ActionRecorded, ActionStatus, DeadLetter, Envelope, Event, Producer, TopicRegistry, event_adapter

from . import kafka_compat
from .observability import Metrics, extract_context, inject_headers
from .producer import RecoverableProducer
from .relay import OutboxRelay
from .settings import ServiceSettings
from .store import ServiceStore, outbox

kafka_compat.apply()

__all__ = [
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_REPLAY_OF",
    "BatchHandler",
    "Bus",
    "Delivery",
    "Emitter",
    "HandlerContext",
    "OutboxRelay",
    "Subscription",
    "build_broker",
    "encode_event",
]

log = logging.getLogger("medic.bus")
tracer = trace.get_tracer("medic.bus")

HEADER_EVENT_ID = "medic-event-id"
HEADER_EVENT_TYPE = "medic-event-type"
HEADER_SCHEMA_VERSION = "medic-schema-version"
HEADER_REPLAY_OF = "replay-of"
HEADER_ERROR_TYPE = "medic-error-type"
HEADER_ERROR = "medic-error"
HEADER_ATTEMPTS = "medic-attempts"

EventT = TypeVar("EventT", bound=Envelope)


def build_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream KafkaBroker with an idempotent, acks=all producer."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"medic-{settings.service_name}-{settings.instance_id}",
        enable_idempotence=settings.kafka_idempotence,
        acks="all",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        linger_ms=0,
        graceful_timeout=15.0,
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
        allow_auto_create_topics=False,
    )


def encode_event(event: Envelope, *, extra_headers: dict[str, str] | None = None) -> tuple[bytes, bytes | None, dict[str, str]]:
    """Serialize an event: (value, key, headers) with id/type/version and the current trace context."""
    headers = inject_headers(
        {
            HEADER_EVENT_ID: event.event_id,
            HEADER_EVENT_TYPE: event.event_type,
            HEADER_SCHEMA_VERSION: event.schema_version,
            "content-type": "application/json",
            **(extra_headers or {}),
        }
    )
    return event.model_dump_json().encode(), event.key, headers


@dataclass(slots=True)
class Delivery:
    """Where the message being handled came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: dict[str, str]

    @property
    def replay_of(self) -> str | None:
        """The original event id when this event is a replay (rework, not a duplicate)."""
        return self.headers.get(HEADER_REPLAY_OF)


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


@dataclass(slots=True)
class _Decoded:
    record: ConsumerRecord[Any, Any]
    headers: dict[str, str]
    event: Event | None = None
    error: Exception | None = None

    @property
    def delivery(self) -> Delivery:
        r = self.record
        return Delivery(r.topic, r.partition, r.offset, r.key, self.headers)


class _BatchFailed(Exception):
    """A handler raised inside a batch: which message, and why."""

    def __init__(self, item: _Decoded, cause: Exception) -> None:
        super().__init__(str(cause))
        self.item = item
        self.cause = cause


def _decode_headers(raw: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw or ():
        try:
            out[key] = value.decode("utf-8") if value is not None else ""
        except UnicodeDecodeError:
            out[key] = "base64:" + base64.b64encode(value).decode()
    return out


async def _raw_parser(records: Any, _original: Any) -> KafkaMessage:
    # Parsing happens in Bus._dispatch so one malformed record never fails its batch.
    return KafkaMessage(body=records, headers={}, raw_message=records, consumer=None)  # type: ignore[arg-type]


async def _raw_decoder(message: Any, _original: Any) -> Any:
    return message.raw_message


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commit what was processed before partitions move, so the next owner does not redo it."""

    def __init__(self, bus: Bus, sub: Subscription[Any]) -> None:
        self.bus = bus
        self.sub = sub

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self.sub.lock:
            await self.bus._commit(self.sub)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        # Positions come from the group's committed offsets now; what this instance remembered
        # may belong to a log that no longer exists (a broker that restarted without its state).
        for tp in assigned:
            self.sub.committed.pop(tp, None)
            self.sub.pending.pop(tp, None)


class Bus:
    """Medic's broker: subscriptions with delivery guarantees, the outbox relay, the DLQ."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        store: ServiceStore,
        metrics: Metrics,
        topics: TopicRegistry,
        producer: Producer,
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.topics = topics
        self.producer = producer
        self.broker = build_broker(settings)
        #: Every publish goes through this producer, which is replaced when the broker loses its state.
        self.producer_client = RecoverableProducer(settings, client_id=f"medic-{settings.service_name}-{settings.instance_id}")
        self.subscriptions: list[Subscription[Any]] = []
        #: Called after each delivery transaction commits (the runtime wakes its workers here).
        self.after_commit: list[Callable[[], None]] = []
        self.relay = OutboxRelay(self)
        self._adapter = event_adapter()
        self._metric_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.started = False

    # ---- registration --------------------------------------------------------------------------

    def subscribe(
        self,
        topic: str | Sequence[str],
        handler: Handler,
        *,
        accepts: Sequence[type[Envelope]],
        group_id: str | None = None,
        name: str | None = None,
        auto_offset_reset: Literal["earliest", "latest"] = "earliest",
        batch_handler: BatchHandler | None = None,
        inbox: bool = True,
    ) -> Subscription[Any]:
        """Register ``handler`` for the events of ``accepts`` arriving on ``topic`` (or on each of several).

        Several topics make one consumer in the group: its delivery batches mix the topics.

        With ``batch_handler``, each delivery batch's new events go to it in one call (same
        transaction, same guarantees); ``handler`` is used when a failed batch is retried one
        message at a time. ``inbox=False`` skips the processed-events inbox for a handler that
        is idempotent on event ids by itself (the batch still commits its offsets after its transaction).
        """
        group = group_id or f"{self.settings.topic_prefix}{self.settings.service_name}"
        topics = (topic,) if isinstance(topic, str) else tuple(topic)
        label = ",".join(topics)
        sub: Subscription[Any] = Subscription(
            name=name or f"{group}:{label}",
            topic=label,
            group_id=group,
            accepts=tuple(accepts),
            handler=handler,
            batch_handler=batch_handler,
            inbox=inbox,
        )
        subscriber = self.broker.subscriber(
            *topics,
            group_id=group,
            batch=True,
            max_records=self.settings.kafka_max_batch,
            batch_timeout_ms=500,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset=auto_offset_reset,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            max_poll_interval_ms=self.settings.kafka_max_poll_interval_ms,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            listener=_CommitOnRevoke(self, sub),
            parser=_raw_parser,
            decoder=_raw_decoder,
            title=f"{self.settings.service_name}:{label}",
            description=", ".join(m.__name__ for m in accepts),
        )
        sub.subscriber = subscriber

        async def dispatch(records: Any) -> None:
            await self._dispatch(sub, records)

        subscriber(dispatch)
        self.subscriptions.append(sub)
        return sub

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, start every subscription and the outbox relay."""
        await self.broker.start()
        self.relay.start()
        self.started = True

    async def stop(self) -> None:
        """Stop consuming, commit what was processed, flush the outbox, disconnect."""
        self.started = False
        for sub in self.subscriptions:
            async with sub.lock:
                await self._commit(sub)
        await self.relay.stop()
        await self.producer_client.stop()
        await self._leave_groups()
        await self.broker.stop()

    async def _leave_groups(self) -> None:
        """Stop the consumers one at a time, so their groups see one LeaveGroup after another.

        FastStream stops all subscribers at once. When several members of one group leave in the
        same instant, the embedded broker (Tansu) can keep a departed member as the group's leader:
        the next instance's JoinGroup is then answered with that leader forever and its start never
        returns. One leave at a time costs a round trip per consumer; ``broker.stop`` after it
        finds them stopped already.
        """
        for sub in self.subscriptions:
            if sub.subscriber is not None:
                await sub.subscriber.stop()

    async def ping(self) -> bool:
        """True when the broker answers."""
        try:
            return bool(await asyncio.wait_for(self.broker.ping(timeout=2.0), 3.0))
        except Exception:
            return False

    # ---- publishing ----------------------------------------------------------------------------

    async def publish_now(self, event: Envelope, *, topic: str | None = None, headers: dict[str, str] | None = None) -> None:
        """Publish directly, waiting for the broker's acknowledgement (no outbox: use for tools)."""
        value, key, hdrs = encode_event(event, extra_headers=headers)
        await self.producer_client.send_and_wait(topic or self.topics.for_event(event), value, key=key, headers=hdrs)

    async def publish_raw(self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]) -> None:
        """Publish bytes as they are (replay, tools), waiting for the acknowledgement."""
        await self.producer_client.send_and_wait(topic, value, key=key, headers=headers)

    def _observe(self, topic: str, event_type: str, seconds: float) -> None:
        key = (topic, event_type)
        children = self._metric_children.get(key)
        if children is None:
            children = (
                self.metrics.latency.labels(self.metrics.service, topic),
                self.metrics.handled.labels(self.metrics.service, topic, event_type),
            )
            self._metric_children[key] = children
        children[0].observe(seconds)
        children[1].inc()

    # ---- consuming -----------------------------------------------------------------------------

    def _decode(self, record: ConsumerRecord[Any, Any]) -> _Decoded:
        headers = _decode_headers(record.headers)
        decoded = _Decoded(record=record, headers=headers)
        try:
            if record.value is None:
                raise ValueError("empty message value")
            decoded.event = self._adapter.validate_json(record.value)
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            decoded.error = exc
        return decoded

    async def _dispatch(self, sub: Subscription[Any], records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        if not records:
            return
        async with sub.lock:
            decoded = [self._decode(r) for r in records]
            wanted = [d for d in decoded if d.event is not None and isinstance(d.event, sub.accepts)]
            emitted = 0
            try:
                emitted = await self._handle_batch(sub, wanted)
            except _BatchFailed as failure:
                # The slow path isolates the failing message: one message per transaction, retried.
                self.metrics.failed.labels(self.metrics.service, sub.topic, type(failure.cause).__name__).inc()
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
            await self._commit(sub)
        for hook in self.after_commit:
            hook()
        if emitted:
            self.relay.notify()

    async def _handle_batch(self, sub: Subscription[Any], items: list[_Decoded]) -> int:
        if not items:
            return 0
        if sub.batch_handler is not None:
            return await self._handle_whole_batch(sub, sub.batch_handler, items)
        rows: list[dict[str, Any]] = []
        async with self.store.transaction() as conn:
            done = await self.store.already_processed(conn, sub.name, [d.event.event_id for d in items if d.event])
            handled: list[str] = []
            for d in items:
                try:
                    rows.extend(await self._run_handler(sub, conn, d, done, handled))
                except Exception as exc:
                    raise _BatchFailed(d, exc) from exc
            await self.store.mark_processed(conn, sub.name, handled)
            if rows:
                await conn.execute(outbox.insert(), rows)
        return len(rows)

    async def _handle_whole_batch(self, sub: Subscription[Any], batch_handler: BatchHandler, items: list[_Decoded]) -> int:
        """One call of the batch handler for the batch's new events, in one transaction."""
        rows: list[dict[str, Any]] = []
        async with self.store.transaction() as conn:
            done = (
                await self.store.already_processed(conn, sub.name, [d.event.event_id for d in items if d.event])
                if sub.inbox
                else set()
            )
            todo: list[_Decoded] = []
            seen: set[str] = set()
            for d in items:
                assert d.event is not None
                if d.event.event_id in done or d.event.event_id in seen:
                    self.metrics.duplicates.labels(self.metrics.service, sub.topic).inc()
                    continue
                seen.add(d.event.event_id)
                todo.append(d)
            if not todo:
                return 0
            ctx = HandlerContext(conn, todo[0].delivery, self.topics, self.producer, self.store)
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
                await self.store.mark_processed(conn, sub.name, [d.event.event_id for d in todo if d.event])
            if rows:
                await conn.execute(outbox.insert(), rows)
        elapsed = (time.perf_counter() - started) / len(todo)
        for d in todo:
            assert d.event is not None
            self._observe(d.record.topic, d.event.event_type, elapsed)
        return len(rows)

    async def _run_handler(
        self, sub: Subscription[Any], conn: AsyncConnection, d: _Decoded, done: set[str], handled: list[str]
    ) -> list[dict[str, Any]]:
        """Run one handler; return the outbox rows it emitted (written by the caller, in the same transaction)."""
        event = d.event
        assert event is not None
        if event.event_id in done or event.event_id in handled:
            self.metrics.duplicates.labels(self.metrics.service, sub.topic).inc()
            return []
        ctx = HandlerContext(conn, d.delivery, self.topics, self.producer, self.store)
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

    async def _handle_with_retries(self, sub: Subscription[Any], d: _Decoded, *, used: int = 0) -> int:
        attempts = self.settings.delivery_attempts
        backoff = self.settings.delivery_backoff_ms / 1000
        if used >= attempts:
            await self._dead_letter(sub, d, RuntimeError("failed in its batch"), attempts=used, permanent=False)
            return 0
        if used:
            await asyncio.sleep(backoff)
        for attempt in range(used + 1, attempts + 1):
            try:
                async with self.store.transaction() as conn:
                    assert d.event is not None
                    done = await self.store.already_processed(conn, sub.name, [d.event.event_id]) if sub.inbox else set()
                    handled: list[str] = []
                    rows = await self._run_handler(sub, conn, d, done, handled)
                    if sub.inbox:
                        await self.store.mark_processed(conn, sub.name, handled)
                    if rows:
                        await conn.execute(outbox.insert(), rows)
                return len(rows)
            except Exception as exc:
                self.metrics.failed.labels(self.metrics.service, sub.topic, type(exc).__name__).inc()
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

    async def _dead_letter(self, sub: Subscription[Any], d: _Decoded, exc: Exception, *, attempts: int, permanent: bool) -> None:
        r = d.record
        letter = DeadLetter(
            producer=self.producer,
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
        await self.publish_now(letter, headers=error_headers)
        self.metrics.dead_lettered.labels(self.metrics.service, r.topic).inc()
        log.error("dead-lettered %s[%d]@%d after %d attempt(s): %s", r.topic, r.partition, r.offset, attempts, exc)

    async def _commit(self, sub: Subscription[Any]) -> None:
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
