"""How events travel: their bytes and headers on the way out, and what a consumed record decodes to.

An event is published as its JSON with ``medic-event-*`` headers and the current trace context
(:func:`encode_event`). A consumed record is decoded by the bus itself, not by FastStream
(:func:`raw_parser` hands the records over untouched), so one malformed record never fails its
batch: :func:`decode_record` keeps the error next to the record for dead-lettering.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka.message import KafkaMessage
from pydantic import TypeAdapter, ValidationError

from medic_contracts import Event

from ..wire import HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_REPLAY_OF, HEADER_SCHEMA_VERSION, encode_event

__all__ = [
    "HEADER_ATTEMPTS",
    "HEADER_ERROR",
    "HEADER_ERROR_TYPE",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_REPLAY_OF",
    "HEADER_SCHEMA_VERSION",
    "Decoded",
    "Delivery",
    "decode_headers",
    "decode_record",
    "encode_event",
    "raw_decoder",
    "raw_parser",
]

HEADER_ERROR_TYPE = "medic-error-type"
HEADER_ERROR = "medic-error"
HEADER_ATTEMPTS = "medic-attempts"


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


@dataclass(slots=True)
class Decoded:
    """A consumed record with its decoded headers and either its event or why it has none."""

    record: ConsumerRecord[Any, Any]
    headers: dict[str, str]
    event: Event | None = None
    error: Exception | None = None

    @property
    def delivery(self) -> Delivery:
        r = self.record
        return Delivery(r.topic, r.partition, r.offset, r.key, self.headers)


def decode_headers(raw: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Kafka headers as text (a value that is not UTF-8 becomes ``base64:...``)."""
    out: dict[str, str] = {}
    for key, value in raw or ():
        try:
            out[key] = value.decode("utf-8") if value is not None else ""
        except UnicodeDecodeError:
            out[key] = "base64:" + base64.b64encode(value).decode()
    return out


def decode_record(adapter: TypeAdapter[Event], record: ConsumerRecord[Any, Any]) -> Decoded:
    """Decode one record; a malformed one (empty, not JSON, not a known event, invalid) keeps its error."""
    headers = decode_headers(record.headers)
    decoded = Decoded(record=record, headers=headers)
    try:
        if record.value is None:
            raise ValueError("empty message value")
        decoded.event = adapter.validate_json(record.value)
    except (ValidationError, ValueError, UnicodeDecodeError) as exc:
        decoded.error = exc
    return decoded


async def raw_parser(records: Any, _original: Any) -> KafkaMessage:
    # Parsing happens in Consumer.dispatch so one malformed record never fails its batch.
    return KafkaMessage(body=records, headers={}, raw_message=records, consumer=None)  # type: ignore[arg-type]


async def raw_decoder(message: Any, _original: Any) -> Any:
    return message.raw_message
