"""Two narrow fixes to the Kafka client stack, applied once on import of the bus.

1. aiokafka asks for a producer id with InitProducerId **v0** only. The embedded Tansu broker
   answers v0 with an error (it reads producer id/epoch fields that only exist from v3), so an
   idempotent producer cannot start. We add InitProducerId v3 (flexible; producer id and epoch
   -1, i.e. "new producer"), which Kafka ≥ 2.5 and Tansu both accept; aiokafka picks the highest
   version the broker advertises.
2. FastStream's batch subscriber sleeps a whole ``batch_timeout_ms`` after an empty poll, on top of
   aiokafka's ``getmany`` already waiting that long for data. The sleep only adds latency (a
   message arriving during it waits), so an empty poll returns at once and the loop polls again.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Any

import aiokafka.producer.sender as _sender
from aiokafka.protocol import transaction as _tx
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactString, Int16, Int32, Int64, Schema, TaggedFields
from faststream.kafka.subscriber.usecase import BatchSubscriber

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord

__all__ = ["apply"]


class InitProducerIdResponseV3(Response):  # type: ignore[misc]
    API_KEY = 22
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class InitProducerIdRequestV3(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 22
    API_VERSION = 3
    RESPONSE_TYPE = InitProducerIdResponseV3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("transaction_timeout_ms", Int32),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("tags", TaggedFields),
    )


class InitProducerIdRequest(Request[_tx.InitProducerIdRequest_v0 | InitProducerIdRequestV3]):  # type: ignore[misc]
    """InitProducerId offering v0 and v3; the client sends the highest the broker supports."""

    API_KEY = 22

    def __init__(self, transactional_id: str | None, transaction_timeout_ms: int) -> None:
        self._transactional_id = transactional_id
        self._transaction_timeout_ms = transaction_timeout_ms

    def build(self, request_struct_class: type[Any]) -> Any:
        if request_struct_class is InitProducerIdRequestV3:
            return InitProducerIdRequestV3(self._transactional_id, self._transaction_timeout_ms, -1, -1, {})
        return request_struct_class(self._transactional_id, self._transaction_timeout_ms)


async def _batch_get_msg(self: BatchSubscriber, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
    messages = await consumer.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.max_records)
    return tuple(chain(*messages.values()))


_applied = False


def apply() -> None:
    """Apply both fixes (idempotent)."""
    global _applied  # noqa: PLW0603 - one process-wide patch of third-party modules
    if _applied:
        return
    _sender.InitProducerIdRequest = InitProducerIdRequest
    BatchSubscriber.get_msg = _batch_get_msg  # type: ignore[method-assign]
    _applied = True
