"""The bus: FastStream on aiokafka, with Medic's delivery guarantees around every handler.

Publishing goes through the transactional outbox: an event is written in the same local
transaction as the state change that caused it (:class:`Emitter`, :mod:`.context`), and the
:class:`OutboxRelay` publishes it (idempotent producer, ``acks=all``) until the broker
acknowledges, then deletes it.

Consuming (:meth:`Bus.subscribe`) registers a FastStream batch subscriber with
``AckPolicy.MANUAL``. Each batch is handled in one store transaction: already-processed event ids
are skipped, each handler runs with a :class:`HandlerContext` (its connection, its outbox), the
processed ids are recorded, and only after that transaction commits are the Kafka offsets
committed. A handler that raises sends the batch down the slow path: one message per
transaction, each retried ``delivery_attempts`` times with backoff, then dead-lettered to
``medic.dlq`` with its original bytes and error headers, while the messages behind it go on.
Malformed messages (not JSON, not a known event, failing validation) are permanent errors and
are dead-lettered at once (:mod:`.consumer`). Events are encoded and records decoded in
:mod:`.codec`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal

from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from medic_contracts import Envelope, Producer, TopicRegistry

from .. import kafka_compat
from ..aio import bounded
from ..kafka_security import faststream_security
from ..observability import Metrics
from ..producer import RecoverableProducer
from ..relay import OutboxRelay
from ..settings import ServiceSettings
from ..store import ServiceStore
from .codec import HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_REPLAY_OF, Delivery, encode_event, raw_decoder, raw_parser
from .consumer import CommitOnRevoke, Consumer, Subscription
from .context import BatchHandler, Emitter, Handler, HandlerContext

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


def build_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream KafkaBroker with an idempotent, acks=all producer (TLS and SASL as the settings say)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        security=faststream_security(settings),
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
        self.producer_client = RecoverableProducer(
            settings, client_id=f"medic-{settings.service_name}-{settings.instance_id}", partitions=self.topics.partitions()
        )
        self.subscriptions: list[Subscription[Any]] = []
        #: Called after each delivery transaction commits (the runtime wakes its workers here).
        self.after_commit: list[Callable[[], None]] = []
        self.relay = OutboxRelay(self)
        #: Runs the handlers on each delivery batch: inbox, retries, dead letters, offset commits.
        self.consumer = Consumer(self)
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
            listener=CommitOnRevoke(self.consumer, sub),
            parser=raw_parser,
            decoder=raw_decoder,
            title=f"{self.settings.service_name}:{label}",
            description=", ".join(m.__name__ for m in accepts),
        )
        sub.subscriber = subscriber

        async def dispatch(records: Any) -> None:
            await self.consumer.dispatch(sub, records)

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
                await self.consumer.commit(sub)
        await self.relay.stop()
        await self.producer_client.stop()
        await self.consumer.leave_groups()
        await self.broker.stop()

    async def ping(self) -> bool:
        """True when the broker answers."""
        try:
            return bool(await bounded(self.broker.ping(timeout=2.0), 3.0))
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
