"""The Sentry SDK wire protocol, read without I/O: auth, compressed bodies, envelopes and store bodies.

What the official SDKs send to a DSN ``http://<key>@<host>/<project_id>``:

- ``POST /api/<project_id>/envelope/``: an envelope, newline-delimited: a JSON header line, then
  items, each a JSON item header (``type``, optional ``length``) and a payload of ``length``
  bytes (or up to the next newline when ``length`` is absent);
- ``POST /api/<project_id>/store/`` (older SDKs): the event JSON itself, sometimes base64 of
  zlib-deflated JSON;
- the key in ``X-Sentry-Auth: Sentry sentry_key=<key>, sentry_version=7, ...`` or in the
  ``sentry_key`` query parameter;
- bodies optionally compressed: ``Content-Encoding: gzip``, ``deflate`` or ``br``.

Only ``event`` items become events; every other item type (transactions, sessions, client
reports, attachments...) is accepted and dropped, as Sentry would for a project without that
feature.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import brotli  # type: ignore[import-untyped]  # no stubs or py.typed

__all__ = [
    "BodyTooLarge",
    "EnvelopeError",
    "ParsedEnvelope",
    "decompress",
    "parse_envelope",
    "parse_store_body",
    "sentry_key",
]


class EnvelopeError(ValueError):
    """A body that is not a readable envelope, event or compressed stream (answered with 400)."""


class BodyTooLarge(EnvelopeError):
    """The body, once decompressed, passes the size limit (answered with 413)."""


@dataclass(frozen=True, slots=True)
class ParsedEnvelope:
    """The events of an envelope and how many other items it carried."""

    events: list[Mapping[str, Any]] = field(default_factory=list)
    ignored: int = 0
    event_id: str | None = None


def sentry_key(auth_header: str | None, query_key: str | None) -> str | None:
    """The DSN public key from ``X-Sentry-Auth`` (preferred) or the ``sentry_key`` query parameter."""
    if auth_header:
        text = auth_header.strip()
        if text[:7].lower() == "sentry ":
            text = text[7:]
        for part in text.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "sentry_key" and value.strip():
                return value.strip()
    return query_key.strip() if query_key and query_key.strip() else None


def _inflate(body: bytes, *, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise EnvelopeError(f"body is not valid compressed data: {exc}") from exc
    if len(out) > limit:
        raise BodyTooLarge(f"decompressed body larger than {limit} bytes")
    return out


def decompress(body: bytes, encoding: str | None, *, limit: int) -> bytes:
    """The body decoded per ``Content-Encoding`` (gzip, deflate, br, identity), refused past ``limit`` bytes.

    Decompression stops at ``limit + 1`` bytes, so a small compressed bomb never expands in memory.
    """
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):  # the last coding applied is undone first
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            body = _inflate(body, wbits=16 + zlib.MAX_WBITS, limit=limit)
        elif coding == "deflate":
            # RFC 9110 deflate is zlib-wrapped; some clients send raw deflate, so accept both.
            try:
                body = _inflate(body, wbits=zlib.MAX_WBITS, limit=limit)
            except BodyTooLarge:
                raise
            except EnvelopeError:
                body = _inflate(body, wbits=-zlib.MAX_WBITS, limit=limit)
        elif coding == "br":
            decoder = brotli.Decompressor()
            try:
                out = decoder.process(body, output_buffer_limit=limit + 1)
            except brotli.error as exc:
                raise EnvelopeError(f"body is not valid brotli data: {exc}") from exc
            if len(out) > limit or not decoder.can_accept_more_data():
                raise BodyTooLarge(f"decompressed body larger than {limit} bytes")
            body = out
        else:
            raise EnvelopeError(f"unsupported Content-Encoding {coding!r}")
    if len(body) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes")
    return body


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise EnvelopeError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise EnvelopeError(f"{what} is not a JSON object")
    return value


def parse_envelope(body: bytes) -> ParsedEnvelope:
    """The ``event`` items of an envelope (other item types counted in ``ignored``)."""
    newline = body.find(b"\n")
    header = _json_object(body if newline < 0 else body[:newline], "envelope header")
    position = len(body) if newline < 0 else newline + 1
    events: list[Mapping[str, Any]] = []
    ignored = 0
    while position < len(body):
        end = body.find(b"\n", position)
        line = body[position:] if end < 0 else body[position:end]
        position = len(body) if end < 0 else end + 1
        if not line.strip():
            continue  # blank lines between items are allowed
        item = _json_object(line, "envelope item header")
        length = item.get("length")
        if isinstance(length, int) and not isinstance(length, bool):
            if length < 0 or position + length > len(body):
                raise EnvelopeError("envelope item length runs past the end of the body")
            payload = body[position : position + length]
            position += length
            if body[position : position + 1] == b"\n":
                position += 1
        else:
            end = body.find(b"\n", position)
            payload = body[position:] if end < 0 else body[position:end]
            position = len(body) if end < 0 else end + 1
        if item.get("type") == "event":
            events.append(_json_object(payload, "event item"))
        else:
            ignored += 1
    event_id = header.get("event_id")
    return ParsedEnvelope(events=events, ignored=ignored, event_id=event_id if isinstance(event_id, str) else None)


def parse_store_body(body: bytes, *, limit: int) -> dict[str, Any]:
    """The event of a ``store`` request: JSON, or (legacy SDKs) base64 of zlib-deflated JSON."""
    stripped = body.lstrip()
    if stripped[:1] == b"{":
        return _json_object(stripped, "event")
    try:
        packed = base64.b64decode(stripped, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError("event is neither JSON nor base64") from exc
    return _json_object(_inflate(packed, wbits=zlib.MAX_WBITS, limit=limit), "event")
