"""Watcher replicas on one PostgreSQL store and a real broker: one poller per source, one publication per issue.

Two watcher processes: each polled source is polled by one of them.

The source is a health check against a local HTTP server that records every probe, so the test sees
each poll as it happens, whichever replica made it. The check fails, so the polls make one P0 issue:
however many replicas poll, and across a hand-over, it is published once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from medic_contracts import DetectionReason, IssueType, Severity, TopicName, TopicRegistry
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_testing.runtime.plugin import test_env as make_env
from medic_testing.runtime.processes import ServiceProcess
from medic_watcher.app import build_watcher
from medic_watcher.settings import WatcherSettings

from .test_service import client_for, issues_on_bus, write_target

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

INTERVAL_S = 2.0
LEASE_TTL_S = 3.0


@contextmanager
def probed_app() -> Iterator[tuple[str, list[float]]]:
    """A failing app (503 on every GET); yields its health URL and the times it was probed."""
    probes: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            probes.append(time.time())
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz", probes
    finally:
        server.shutdown()
        server.server_close()


def healthcheck_target(root: Path, url: str) -> Path:
    toml = root / "medic.toml"
    toml.write_text(
        '[target]\nname = "shop"\nrepo = "."\nlanguage = "typescript"\ntest_command = "npm test"\n\n'
        f'[[sources]]\nkind = "healthcheck"\nname = "uptime"\nservice = "web"\ninterval_s = {INTERVAL_S}\n'
        f'checks = [{{ name = "web", url = "{url}", timeout_s = 2, failures_before_alert = 1 }}]\n'
    )
    return toml


def polled_by(replica: ServiceProcess) -> str | None:
    body = httpx.get(replica.url + "/sources", timeout=5).json()
    value: str | None = body["targets"]["shop"]["uptime"]["polled_by"]
    return value


async def wait_until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def assert_polled_once_per_interval(probes: list[float]) -> None:
    # Two pollers would probe twice per interval (gaps near 0); one poller's gaps are the interval or more.
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert gaps and min(gaps) >= INTERVAL_S / 2, f"a source was polled twice in an interval: gaps {gaps}"


async def test_two_replicas_poll_a_source_once_per_interval_and_the_survivor_takes_over_after_the_lease_lapses(
    kafka_bootstrap: str, topic_prefix: str, topics: TopicRegistry, fresh_postgres_url: str, tmp_path: Path
) -> None:
    with probed_app() as (url, probes):
        env = make_env(kafka_bootstrap, topic_prefix, tmp_path / "data", MEDIC_STORE_URL=fresh_postgres_url,
                       MEDIC_TARGETS=str(healthcheck_target(tmp_path, url)), MEDIC_POLL_LEASE_TTL_S=str(LEASE_TTL_S),
                       MEDIC_LOG_FORMAT="text")  # fmt: skip
        replicas = {
            name: ServiceProcess.console_script(name, "medic-watcher", env={**env, "MEDIC_INSTANCE_ID": name}, log_dir=tmp_path)
            for name in ("watcher-a", "watcher-b")
        }
        try:
            for replica in replicas.values():
                replica.start()
            for replica in replicas.values():
                await asyncio.to_thread(replica.wait_healthy, 90.0)
            await wait_until(lambda: len(probes) >= 4, timeout=60)
            holders = {polled_by(r) for r in replicas.values()}
            assert len(holders) == 1 and holders <= set(replicas), f"both replicas name one poller: {holders}"
            assert_polled_once_per_interval(probes)

            (holder,) = holders
            assert holder is not None
            await asyncio.to_thread(replicas[holder].kill)  # a crash: its lease is never given up, it lapses
            killed_at, before = time.time(), len(probes)
            (survivor,) = (r for n, r in replicas.items() if n != holder)
            await wait_until(lambda: len(probes) >= before + 3, timeout=60)
            assert polled_by(survivor) == survivor.name
            assert probes[before] >= killed_at, "nobody polled between the kill and the hand-over"
            assert_polled_once_per_interval(probes)

            issues = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=2, timeout=5)
        finally:
            for replica in replicas.values():
                replica.stop()
    assert len(issues) == 1, f"one IssueDetected across replicas and the hand-over, got {len(issues)}"
    (issue,) = issues
    assert issue.issue_type is IssueType.AVAILABILITY and issue.severity is Severity.P0


async def test_one_fault_pushed_to_two_replicas_at_once_is_published_once(
    service_settings: Callable[..., ServiceSettings],
    topics: TopicRegistry,
    kafka_bootstrap: str,
    fresh_postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SENTRY_SECRET", "s3cret")
    toml = write_target(tmp_path, kind="sentry", org="acme", project="shop", api_url="http://127.0.0.1:9", interval_s=3600,
                        webhook_secret_env="TEST_SENTRY_SECRET")  # fmt: skip
    runtimes: list[ServiceRuntime] = []
    for i in range(2):
        settings = service_settings("watcher", cls=WatcherSettings, targets=str(toml), store_url=fresh_postgres_url,
                                    instance_id=f"watcher-{i}")  # fmt: skip
        runtimes.append(build_watcher(settings)[0])  # type: ignore[arg-type]
    for rt in runtimes:
        await rt.start()

    async def deliver(rt: ServiceRuntime, fault: int, event: int) -> int:
        frame = {"filename": f"app/step{fault}.py", "function": f"step{fault}", "lineno": 9, "in_app": True}
        exception = {"type": f"Fault{fault}Error", "value": "campaign", "stacktrace": {"frames": [frame]}}
        sentry_event = {"event_id": f"{event:032x}", "platform": "python", "level": "error", "exception": {"values": [exception]}}
        body = json.dumps({"action": "triggered", "data": {"event": sentry_event}}).encode()
        headers = {
            "sentry-hook-signature": hmac.new(b"s3cret", body, hashlib.sha256).hexdigest(),
            "sentry-hook-resource": "event_alert",
        }
        async with await client_for(rt) as client:
            response = await client.post("/webhooks/sentry/shop/sentry", content=body, headers=headers)
        assert response.status_code == 200
        published: int = response.json()["published"]
        return published

    try:
        # Each fault reaches both replicas at the same moment (two occurrences: the severity stays put).
        published = [
            sum(await asyncio.gather(deliver(runtimes[0], f, 2 * f), deliver(runtimes[1], f, 2 * f + 1))) for f in range(5)
        ]
        issues = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=6, timeout=5)
    finally:
        for rt in runtimes:
            await rt.stop()
    assert published == [1] * 5, f"each fault published by exactly one replica: {published}"
    assert len(issues) == len({i.issue_id for i in issues}) == 5
    assert {i.reason for i in issues} == {DetectionReason.NEW}
