"""An event's bytes and headers on the wire: what every producer of Medic events writes, light to import.

The bus (:mod:`.bus.codec`) re-exports these; tools that only publish (``medic replay``) import this
module alone, which costs pydantic, the contracts and OpenTelemetry's propagation API, not the broker,
store and runtime.
"""

from __future__ import annotations

from opentelemetry import propagate

from medic_contracts import Envelope

__all__ = ["HEADER_EVENT_ID", "HEADER_EVENT_TYPE", "HEADER_REPLAY_OF", "HEADER_SCHEMA_VERSION", "encode_event"]

HEADER_EVENT_ID = "medic-event-id"
HEADER_EVENT_TYPE = "medic-event-type"
HEADER_SCHEMA_VERSION = "medic-schema-version"
HEADER_REPLAY_OF = "replay-of"


def encode_event(event: Envelope, *, extra_headers: dict[str, str] | None = None) -> tuple[bytes, bytes | None, dict[str, str]]:
    """Serialize an event: (value, key, headers) with id/type/version and the current trace context."""
    headers = {
        HEADER_EVENT_ID: event.event_id,
        HEADER_EVENT_TYPE: event.event_type,
        HEADER_SCHEMA_VERSION: event.schema_version,
        "content-type": "application/json",
        **(extra_headers or {}),
    }
    propagate.inject(headers)  # the trace context (traceparent), as observability.inject_headers adds it
    return event.model_dump_json().encode(), event.key, headers
