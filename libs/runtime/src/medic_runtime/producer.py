"""The runtime's Kafka producer, which survives a broker that lost its producer state.

An idempotent producer is tied to a producer id and sequence numbers the broker keeps. A broker
that restarts without that state (the memory-only embedded broker, a recreated cluster) answers
every later batch with ``UnknownProducerId`` or ``OutOfOrderSequenceNumber``; a zombie epoch is
answered with ``ProducerFenced`` / ``InvalidProducerEpoch``. aiokafka never recovers from these
by itself, so :class:`RecoverableProducer` drops the client and starts a new one (a new producer
id). The outbox keeps every unacknowledged event and sends it again through the new producer;
consumers skip the rare duplicate by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaConnectionError,
    KafkaTimeoutError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)

from .aio import bounded
from .kafka_security import client_options
from .settings import ServiceSettings

__all__ = ["PRODUCER_STATE_LOST", "RecoverableProducer", "needs_new_producer"]

log = logging.getLogger("medic.producer")

#: Errors that mean the broker no longer knows this producer: only a new producer gets past them.
PRODUCER_STATE_LOST: tuple[type[BaseException], ...] = (
    UnknownProducerId,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    InvalidProducerEpoch,
    ProducerClosed,
)


def needs_new_producer(error: BaseException) -> bool:
    """True when ``error`` from a send means the producer must be recreated before anything else gets through.

    Besides lost producer state, a send that timed out while idempotent retries were pending is
    treated the same way: its batches are owned by a client that may never deliver them.
    """
    return isinstance(error, (*PRODUCER_STATE_LOST, KafkaTimeoutError, TimeoutError))


class RecoverableProducer:
    """An idempotent, ``acks=all`` aiokafka producer that can be replaced while the process runs."""

    def __init__(self, settings: ServiceSettings, *, client_id: str, partitions: Mapping[str, int] | None = None) -> None:
        self.settings = settings
        self.client_id = client_id
        #: The topics declared with one partition (the control log): their records always go to partition 0.
        #: A broker that restarted without its state can auto-create a topic on a client's metadata request,
        #: with its default partition count, before the topic is declared again; a record the partitioner put
        #: on another partition of that topic would never reach a reader of the single-partition log.
        self.single_partition = frozenset(t for t, n in (partitions or {}).items() if n == 1)
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        #: How many times the producer was replaced (health output, tests).
        self.generation = 0

    def _new(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=self.client_id,
            enable_idempotence=self.settings.kafka_idempotence,
            acks="all",
            linger_ms=0,
            request_timeout_ms=self.settings.kafka_request_timeout_ms,
            **client_options(self.settings),
        )

    async def get(self) -> AIOKafkaProducer:
        """The live producer, started on first use (raises while no broker answers)."""
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = self._new()
                try:
                    # Bounded: aiokafka retries its producer-id request for as long as the broker errs.
                    await bounded(producer.start(), timeout=self.settings.kafka_request_timeout_ms / 1000)
                except BaseException:
                    await _close_quietly(producer)
                    raise
                self._producer = producer
            return self._producer

    async def send(self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]) -> asyncio.Future[Any]:
        """Queue one record; the returned future resolves when the broker acknowledges it."""
        producer = await self.get()
        future: asyncio.Future[Any] = await producer.send(
            topic,
            value,
            key=key,
            headers=[(k, v.encode()) for k, v in headers.items()],
            partition=0 if topic in self.single_partition else None,
        )
        return future

    async def send_and_wait(self, topic: str, value: bytes, *, key: bytes | None, headers: dict[str, str]) -> None:
        """Publish one record and wait for the acknowledgement; a lost producer state recreates the producer once."""
        timeout = self.settings.outbox_ack_timeout_s
        for attempt in (1, 2):
            try:
                future = await bounded(self.send(topic, value, key=key, headers=headers), timeout)
                await bounded(future, timeout)
                return
            except (*PRODUCER_STATE_LOST, KafkaTimeoutError, TimeoutError) as exc:
                if attempt == 2:
                    raise
                await self.recreate(f"{type(exc).__name__} on {topic}")

    async def recreate(self, reason: str) -> None:
        """Drop the current producer (its unacknowledged batches fail) so the next send starts a new one."""
        async with self._lock:
            old, self._producer = self._producer, None
            if old is None:
                return
            self.generation += 1
            log.warning("recreating the Kafka producer (%s)", reason)
        await _close_quietly(old)

    async def stop(self) -> None:
        """Flush briefly and close."""
        # Not under the lock: a start that is still waiting for the broker must not hold up shutdown.
        old, self._producer = self._producer, None
        if old is not None:
            await _close_quietly(old)


async def _close_quietly(producer: AIOKafkaProducer) -> None:
    # stop() waits for pending batches to be delivered: bounded, because the broker may be gone.
    try:
        await bounded(producer.stop(), timeout=5)
    except (TimeoutError, KafkaConnectionError, Exception):
        log.debug("producer close did not finish cleanly", exc_info=True)
        with contextlib.suppress(Exception):
            await producer.client.close()
