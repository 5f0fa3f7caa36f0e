"""The watcher process on a real broker: publish once, survive a restart, reopen on regression, push endpoints."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from medic_contracts import (
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DetectionReason,
    IssueDetected,
    Producer,
    Severity,
    TopicName,
    TopicRegistry,
    event_adapter,
    utcnow,
)
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_watcher.app import build_watcher
from medic_watcher.settings import WatcherSettings
from medic_watcher.worker import Watcher

pytestmark = pytest.mark.kafka


async def issues_on_bus(bootstrap: str, topic: str, *, at_least: int, timeout: float = 20.0) -> list[IssueDetected]:
    import asyncio
    import time

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[IssueDetected] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(found) < at_least:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    event = event_adapter().validate_json(record.value)
                    assert isinstance(event, IssueDetected)
                    found.append(event)
        if len(found) >= at_least:
            await asyncio.sleep(1.0)  # anything extra would show up now
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(event_adapter().validate_json(r.value) for r in records)  # type: ignore[misc]
    finally:
        await consumer.stop()
    return found


def write_target(root: Path, **source: object) -> Path:
    lines = ["[target]", 'name = "shop"', 'repo = "."', 'language = "typescript"', 'test_command = "npm test"', "", "[[sources]]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in source.items()]
    (root / "medic.toml").write_text("\n".join(lines) + "\n")
    return root / "medic.toml"


def error_lines(n: int, *, users: int, route: str = "/api/campaigns/launch") -> str:
    now = utcnow()
    return "".join(
        json.dumps({"ts": (now - timedelta(seconds=n - 1 - i)).isoformat(), "level": "error", "msg": "launch failed",
                    "service": "web", "route": route, "method": "POST", "status": 500, "user_id": f"user-{i % users}"}) + "\n"
        for i in range(n)
    )  # fmt: skip


async def wait_for(check: Callable[[], object], timeout: float = 15.0) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if hasattr(result, "__await__"):
            result = await result  # type: ignore[misc]
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_seed_issue_is_published_once_survives_restart_and_reopens_after_a_promoted_fix(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.write_text(error_lines(15, users=3))
    toml = write_target(tmp_path, kind="logfile", path="app.log", interval_s=3600)
    settings = service_settings("watcher", cls=WatcherSettings, targets=str(toml))
    topic = topics.name(TopicName.ISSUES_DETECTED)

    rt, watcher = build_watcher(settings)  # type: ignore[arg-type]
    await rt.start()
    try:
        (issue,) = await issues_on_bus(kafka_bootstrap, topic, at_least=1)
    finally:
        await rt.stop()
    assert issue.title == "POST /api/campaigns/launch returning 500"
    assert (issue.severity, issue.frequency.count, issue.affected_users) == (Severity.P1, 15, 3)
    assert issue.deadline is not None and issue.reason is DetectionReason.NEW

    # A new process on the same store: nothing is read twice, so nothing is published again.
    rt, watcher = build_watcher(settings)  # type: ignore[arg-type]
    await rt.start()
    try:
        with log.open("a") as fh:
            fh.write(error_lines(1, users=1))
        watch = watcher.targets["shop"]
        await watcher.poll_once(watch, "logfile")
        assert len(await issues_on_bus(kafka_bootstrap, topic, at_least=2, timeout=3)) == 1

        fix = DeploymentResult(
            producer=Producer(service="releaser", instance="t"), issue_id=issue.issue_id, issue=issue.brief(), run_id="run_1",
            stage=DeploymentStage.PRODUCTION, outcome=DeploymentOutcome.PROMOTED, commit_sha="f0e1d2c3b4a5",
        )  # fmt: skip
        await rt.emit(fix)  # the runtime publishes it; the watcher's own subscription consumes it

        async def fixed() -> bool:
            async with rt.store.transaction() as conn:
                state = (await watcher.issues.load(conn, [issue.issue_id]))[issue.issue_id]
            return state.fixed_at is not None

        await wait_for(fixed)
        with log.open("a") as fh:
            fh.write(error_lines(1, users=1))
        await watcher.poll_once(watch, "logfile")
        events = await issues_on_bus(kafka_bootstrap, topic, at_least=2)
    finally:
        await rt.stop()
    assert [e.reason for e in events] == [DetectionReason.NEW, DetectionReason.REGRESSED]
    assert events[1].issue_id == issue.issue_id and events[1].tags["regressed_after_fix"] == "f0e1d2c3b4a5"


async def client_for(rt: ServiceRuntime) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rt.http), base_url="http://watcher")


async def test_sentry_webhook_needs_a_valid_signature_and_publishes_at_once(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("TEST_SENTRY_SECRET", "s3cret")
    toml = write_target(tmp_path, kind="sentry", org="acme", project="shop", api_url="http://127.0.0.1:9", interval_s=3600,
                        webhook_secret_env="TEST_SENTRY_SECRET")  # fmt: skip
    rt, watcher = build_watcher(service_settings("watcher", cls=WatcherSettings, targets=str(toml)))  # type: ignore[arg-type]
    await rt.start()
    try:
        payload = {"action": "triggered", "data": {"event": {"event_id": "e" * 32, "platform": "python", "level": "error",
                   "exception": {"values": [{"type": "KeyError", "value": "'campaign'", "stacktrace": {"frames": [
                       {"filename": "app/launch.py", "function": "launch", "lineno": 9, "in_app": True}]}}]}}}}  # fmt: skip
        body = json.dumps(payload).encode()
        good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        async with await client_for(rt) as client:
            bad = await client.post("/webhooks/sentry/shop/sentry", content=body, headers={"sentry-hook-signature": "0" * 64})
            assert bad.status_code == 401
            ok = await client.post("/webhooks/sentry/shop/sentry", content=body,
                                   headers={"sentry-hook-signature": good, "sentry-hook-resource": "event_alert"})  # fmt: skip
            assert ok.status_code == 200 and ok.json()["published"] == 1
            again = await client.post("/webhooks/sentry/shop/sentry", content=body,
                                      headers={"sentry-hook-signature": good, "sentry-hook-resource": "event_alert"})  # fmt: skip
            assert again.json()["accepted"] == 1 and again.json()["published"] == 0  # a redelivery is not news
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and "sources" not in ready.json()["checks"]  # sources report in /sources
        (issue,) = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=1)
        assert issue.title == "KeyError: 'campaign'" and issue.source == "sentry"
    finally:
        await rt.stop()
    assert isinstance(watcher, Watcher)


async def test_vercel_drain_checks_signature_and_size_and_reads_ndjson(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import shared_data

    monkeypatch.setenv("TEST_DRAIN_SECRET", "drain")
    monkeypatch.setenv("TEST_VERIFY", "verify-me")
    toml = write_target(tmp_path, kind="vercel", project_id="prj", poll=False, drain_secret_env="TEST_DRAIN_SECRET",
                        verify_token_env="TEST_VERIFY", max_body_bytes=4096)  # fmt: skip
    rt, _ = build_watcher(service_settings("watcher", cls=WatcherSettings, targets=str(toml)))  # type: ignore[arg-type]
    await rt.start()
    try:
        body = (shared_data() / "log-formats" / "vercel-log-drain-ndjson.log").read_bytes()
        signature = hmac.new(b"drain", body, hashlib.sha1).hexdigest()
        async with await client_for(rt) as client:
            verify = await client.get("/webhooks/vercel/shop/vercel")
            assert verify.headers["x-vercel-verify"] == "verify-me"
            assert (await client.post("/webhooks/vercel/shop/vercel", content=body)).status_code == 401
            big = b"[" + b" " * 5000 + b"]"
            big_sig = hmac.new(b"drain", big, hashlib.sha1).hexdigest()
            assert (
                await client.post("/webhooks/vercel/shop/vercel", content=big, headers={"x-vercel-signature": big_sig})
            ).status_code == 413
            ok = await client.post("/webhooks/vercel/shop/vercel", content=body, headers={"x-vercel-signature": signature})
            assert ok.status_code == 200 and ok.json()["accepted"] == 3
            broken = b"{not json"
            sig = hmac.new(b"drain", broken, hashlib.sha1).hexdigest()
            assert (
                await client.post("/webhooks/vercel/shop/vercel", content=broken, headers={"x-vercel-signature": sig})
            ).status_code == 400
    finally:
        await rt.stop()
