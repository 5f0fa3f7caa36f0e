"""Sentry ingest over HTTP: keys, compressed bodies, envelope items, size limits and per-key rate limits."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import httpx
import pytest

from medic_runtime import ServiceSettings
from medic_watcher.app import build_watcher
from medic_watcher.settings import WatcherSettings

from .live import live_watcher, write_toml
from .test_service import wait_for

pytestmark = pytest.mark.kafka

AUTH = {"X-Sentry-Auth": "Sentry sentry_version=7, sentry_client=test/1.0, sentry_key=k1"}


def event(n: int, *, kind: str = "KeyError") -> dict[str, object]:
    return {
        "event_id": f"{n:032x}",
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": kind, "value": f"'campaign{n}'", "stacktrace": {"frames": [
            {"filename": "app/launch.py", "function": "launch", "lineno": 9, "in_app": True}]}}]},
    }  # fmt: skip


def envelope(*items: tuple[dict[str, object], bytes], event_id: str | None = None) -> bytes:
    header = json.dumps({"event_id": event_id} if event_id else {}).encode()
    parts = [header]
    for item_header, payload in items:
        parts += [json.dumps(item_header).encode(), payload]
    return b"\n".join(parts) + b"\n"


def ingest(**extra: object) -> dict[str, object]:
    return {"kind": "sentry_ingest", "name": "sdk", "project_id": "42", "keys_env": "TEST_DSN_KEYS", **extra}


async def test_store_and_envelope_accept_gzip_deflate_and_brotli_bodies(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DSN_KEYS", "k1")
    toml = write_toml(tmp_path, ingest())
    async with live_watcher(service_settings, toml) as (url, watcher), httpx.AsyncClient(base_url=url, timeout=60) as client:
        bodies = {
            "gzip": gzip.compress(json.dumps(event(1)).encode()),
            "deflate": zlib.compress(json.dumps(event(2)).encode()),
            "br": brotli.compress(json.dumps(event(3)).encode()),
        }
        for encoding, body in bodies.items():
            answer = await client.post("/api/42/store/", content=body, headers={**AUTH, "Content-Encoding": encoding})
            assert answer.status_code == 200, (encoding, answer.text)
        raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        packed = raw_deflate.compress(envelope(({"type": "event"}, json.dumps(event(4)).encode()))) + raw_deflate.flush()
        answer = await client.post("/api/42/envelope/", content=packed, headers={**AUTH, "Content-Encoding": "deflate"})
        assert answer.status_code == 200 and answer.json() == {"id": f"{4:032x}"}
        await wait_for(lambda: watcher.status()["targets"]["shop"]["sdk"]["events"] == 4, timeout=60)
        status = (await client.get("/sources")).json()["targets"]["shop"]["sdk"]
    assert status["events"] == 4 and status["push"] is True
    assert watcher.status()["push_backlog"]["events"] == 0


async def test_envelope_keeps_event_items_and_ignores_the_others(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DSN_KEYS", "k1")
    toml = write_toml(tmp_path, ingest())
    async with live_watcher(service_settings, toml) as (url, watcher), httpx.AsyncClient(base_url=url, timeout=60) as client:
        payload = json.dumps(event(7)).encode()
        body = envelope(
            ({"type": "session"}, b'{"sid":"abc","status":"ok"}'),
            ({"type": "event", "length": len(payload)}, payload),
            ({"type": "client_report"}, b'{"discarded_events":[]}'),
            event_id=f"{7:032x}",
        )
        answer = await client.post("/api/42/envelope/", content=body, params={"sentry_key": "k1", "sentry_version": "7"})
        only_sessions = envelope(({"type": "transaction"}, b'{"type":"transaction"}'))
        ignored = await client.post("/api/42/envelope/", content=only_sessions, headers=AUTH)
        await wait_for(lambda: watcher.pushes.queued == 0, timeout=60)
        status = (await client.get("/sources")).json()["targets"]["shop"]["sdk"]
    assert answer.status_code == 200 and answer.json() == {"id": f"{7:032x}"}
    assert ignored.status_code == 200
    assert status["events"] == 1


async def test_unknown_keys_projects_and_bad_bodies_are_refused(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DSN_KEYS", "k1")
    toml = write_toml(tmp_path, ingest(max_body_bytes=2048, max_decompressed_bytes=4096))
    async with live_watcher(service_settings, toml) as (url, _), httpx.AsyncClient(base_url=url, timeout=60) as client:
        body = json.dumps(event(1)).encode()
        missing = await client.post("/api/42/store/", content=body)
        wrong_key = await client.post("/api/42/store/", content=body, params={"sentry_key": "nope"})
        wrong_project = await client.post("/api/43/store/", content=body, headers=AUTH)
        not_json = await client.post("/api/42/store/", content=b"{broken", headers=AUTH)
        bad_gzip = await client.post("/api/42/store/", content=b"not gzip", headers={**AUTH, "Content-Encoding": "gzip"})
        too_big = await client.post("/api/42/store/", content=b"{" + b" " * 3000 + b"}", headers=AUTH)
        bomb = gzip.compress(b"{" + b" " * 100_000 + b"}")  # small on the wire, 100 kB inflated
        assert len(bomb) < 2048
        inflated = await client.post("/api/42/store/", content=bomb, headers={**AUTH, "Content-Encoding": "gzip"})
    assert (missing.status_code, wrong_key.status_code, wrong_project.status_code) == (401, 403, 403)
    assert (not_json.status_code, bad_gzip.status_code) == (400, 400)
    assert (too_big.status_code, inflated.status_code) == (413, 413)


async def test_a_key_over_its_rate_gets_429_with_retry_after(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DSN_KEYS", "k1")
    monkeypatch.setenv("OTHER_KEYS", "k2")
    other = {"kind": "sentry_ingest", "name": "other", "project_id": "42", "keys_env": "OTHER_KEYS"}
    toml = write_toml(tmp_path, ingest(events_per_s=0.001, burst=2), other)
    async with live_watcher(service_settings, toml) as (url, _), httpx.AsyncClient(base_url=url, timeout=60) as client:
        answers = [(await client.post("/api/42/store/", json=event(n), headers=AUTH)) for n in range(3)]
        other_key = await client.post("/api/42/store/", json=event(9), params={"sentry_key": "k2"})
        metrics = (await client.get("/metrics")).text
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert answers[2].headers["X-Sentry-Rate-Limits"].endswith("::key")
    assert other_key.status_code == 200  # limits are per key
    assert 'medic_watcher_push_refused_total{endpoint="/api/{project_id}/store/",reason="rate_limited"' in metrics


async def test_two_sources_claiming_the_same_project_and_key_stop_start_up(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DSN_KEYS", "k1")
    toml = write_toml(tmp_path, ingest(), {**ingest(), "name": "again"})
    with pytest.raises(ValueError, match=r"shop/sdk and shop/again share project 42"):
        build_watcher(service_settings("watcher", cls=WatcherSettings, targets=str(toml)))  # type: ignore[arg-type]


async def test_the_watchers_errors_have_the_same_shape_as_control_apis(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DSN_KEYS", "k1")
    toml = write_toml(tmp_path, ingest())
    async with live_watcher(service_settings, toml) as (url, _watcher), httpx.AsyncClient(base_url=url, timeout=60) as client:
        unknown_key = await client.post(
            "/api/42/store/", content=json.dumps(event(1)), headers={"X-Sentry-Auth": "Sentry sentry_key=nope"}
        )
        no_key = await client.post("/api/42/store/", content=json.dumps(event(1)))
        unknown_target = await client.post("/webhooks/sentry/nowhere/sdk", content=b"{}")
        bad_query = await client.get("/logs", params={"limit": 0})
    for response, status in ((unknown_key, 403), (no_key, 401), (unknown_target, 404), (bad_query, 422)):
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert set(error) >= {"code", "message", "field"} and error["message"], response.text
        assert "detail" not in response.json()
    assert bad_query.json()["error"]["field"] == "limit"
