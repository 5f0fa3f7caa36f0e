"""The Sentry wire protocol and admission decisions, as pure functions."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import brotli
import pytest

from medic_watcher.domain.admission import AdmissionCode, TokenBucket, admit_backlog
from medic_watcher.domain.envelope import (
    BodyTooLarge,
    EnvelopeError,
    decompress,
    parse_envelope,
    parse_store_body,
    sentry_key,
)


def test_sentry_key_comes_from_the_auth_header_before_the_query() -> None:
    header = "Sentry sentry_version=7, sentry_client=sentry.python/2.0, sentry_key=abc123, sentry_secret=s"
    assert sentry_key(header, "fromquery") == "abc123"
    assert sentry_key(None, "fromquery") == "fromquery"
    assert sentry_key("Sentry sentry_version=7", None) is None
    assert sentry_key(None, "  ") is None


def test_envelope_items_with_and_without_length_are_read_and_only_events_kept() -> None:
    payload = b'{"event_id":"e1","message":"line one\\nline two"}'
    body = b"\n".join(
        [
            b'{"event_id":"e1","dsn":"http://k@h/1"}',
            json.dumps({"type": "event", "length": len(payload)}).encode(),
            payload,
            b'{"type":"attachment","length":5}',
            b"a\nb\nc",  # binary payload with newlines, read by length
            b'{"type":"event"}',
            b'{"event_id":"e2"}',
        ]
    )
    parsed = parse_envelope(body)
    assert [e["event_id"] for e in parsed.events] == ["e1", "e2"]
    assert parsed.ignored == 1 and parsed.event_id == "e1"


def test_a_truncated_or_garbled_envelope_is_an_error() -> None:
    with pytest.raises(EnvelopeError, match="past the end"):
        parse_envelope(b'{}\n{"type":"event","length":500}\n{"x":1}')
    with pytest.raises(EnvelopeError, match="item header"):
        parse_envelope(b"{}\nnot json\n{}")
    with pytest.raises(EnvelopeError, match="envelope header"):
        parse_envelope(b"[1,2]\n")


def test_every_content_encoding_decodes_and_inflation_past_the_limit_is_refused() -> None:
    data = b'{"message":"' + b"x" * 2000 + b'"}'
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    encoded = {
        "gzip": gzip.compress(data),
        "deflate": zlib.compress(data),
        "br": brotli.compress(data),
        "identity": data,
        None: data,
    }
    for encoding, body in encoded.items():
        assert decompress(body, encoding, limit=10_000) == data, encoding
    assert decompress(raw.compress(data) + raw.flush(), "deflate", limit=10_000) == data
    assert decompress(gzip.compress(brotli.compress(data)), "br, gzip", limit=10_000) == data
    for encoding in ("gzip", "deflate", "br"):
        with pytest.raises(BodyTooLarge):
            decompress(encoded[encoding], encoding, limit=1000)
    with pytest.raises(EnvelopeError, match="unsupported"):
        decompress(data, "compress", limit=10_000)
    with pytest.raises(BodyTooLarge):
        decompress(data, None, limit=100)


def test_legacy_store_bodies_in_base64_zlib_are_read() -> None:
    event = {"event_id": "e3", "message": "old sdk"}
    packed = base64.b64encode(zlib.compress(json.dumps(event).encode()))
    assert parse_store_body(packed, limit=10_000) == event
    assert parse_store_body(b'  {"event_id":"e4"}', limit=10_000) == {"event_id": "e4"}
    with pytest.raises(EnvelopeError):
        parse_store_body(b"%%%", limit=10_000)


def test_a_token_bucket_refuses_past_its_burst_and_says_when_to_retry() -> None:
    bucket = TokenBucket(rate=2.0, burst=4)
    assert all(bucket.take(1, now=100.0).accepted for _ in range(4))
    refused = bucket.take(1, now=100.0)
    assert refused.code is AdmissionCode.RATE_LIMITED and refused.retry_after_s == 1
    assert bucket.take(1, now=100.6).accepted  # 0.6 s at 2/s refilled one token
    big = TokenBucket(rate=1.0, burst=3)
    assert big.take(10, now=0.0).accepted  # larger than the burst: let through once, in debt
    assert big.take(1, now=1.0).retry_after_s >= 7


def test_the_backlog_takes_a_batch_while_there_is_room_and_always_when_empty() -> None:
    assert admit_backlog(queued=0, incoming=50, capacity=10, drain_per_s=100).accepted
    assert admit_backlog(queued=5, incoming=5, capacity=10, drain_per_s=100).accepted
    full = admit_backlog(queued=9, incoming=500, capacity=10, drain_per_s=100)
    assert full.code is AdmissionCode.BACKLOG_FULL and full.retry_after_s == 5
    assert admit_backlog(queued=9, incoming=10**9, capacity=10, drain_per_s=1).retry_after_s == 60
