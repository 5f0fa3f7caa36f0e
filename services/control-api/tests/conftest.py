"""Fixtures of control-api tests: a started control-api on SQLite or the real PostgreSQL, tokens per role, events."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalKind,
    ApprovalRequested,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    FixStrategy,
    Frequency,
    IssueDetected,
    IssueType,
    LineRange,
    Producer,
    Severity,
    TestOutcome,
    TestReport,
    TopicRegistry,
)
from medic_control.app import build
from medic_control.auth import service as tokens
from medic_control.auth.schemas import Role
from medic_control.settings import ControlSettings
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_runtime.bus import encode_event

#: The browser tests' own HTTP calls: a loaded CI machine can take longer than httpx's 5 s default to answer.
HTTP = httpx.Client(timeout=30.0)

WATCHER = Producer(service="watcher", instance="watcher-1")
INVESTIGATOR = Producer(service="investigator", instance="investigator-1")
IMPLEMENTER = Producer(service="implementer", instance="implementer-1")
RELEASER = Producer(service="releaser", instance="releaser-1")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The audit store under test: a SQLite file, then a fresh database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'medic.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@dataclass
class ControlHarness:
    """A started control-api with one token per role (and a second operator)."""

    runtime: ServiceRuntime
    settings: ControlSettings
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, **headers: str) -> httpx.AsyncClient:
        """An HTTP client of the app (in-process ASGI), authenticated as ``role`` (None: no token)."""
        all_headers = dict(headers)
        if role is not None:
            all_headers["Authorization"] = f"Bearer {self.secrets[role]}"
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.runtime.http, raise_app_exceptions=False),
            base_url="http://control.test",
            headers=all_headers,
        )


StartControl = Callable[..., Awaitable[ControlHarness]]


@pytest.fixture
async def start_control(service_settings: Callable[..., ServiceSettings], tmp_path: Path) -> AsyncIterator[StartControl]:
    """Start control-api (projector off unless asked) on a given store; stopped after the test."""
    started: list[ServiceRuntime] = []

    async def start(
        store_url: str,
        *,
        projector: bool = False,
        clock: Callable[[], datetime] | None = None,
        notifier: Any = None,
        **overrides: Any,
    ) -> ControlHarness:
        values: dict[str, Any] = {
            "store_url": store_url,
            "projector_enabled": projector,
            "snapshot_interval_s": 3600,
            "audit_signing_key_file": tmp_path / "audit-key.pem",  # this test's own, not ./.medic's
            **overrides,
        }
        settings = service_settings("control-api", cls=ControlSettings, **values)
        assert isinstance(settings, ControlSettings)
        runtime = build(settings, clock=clock, notifier=notifier)
        await runtime.start()
        started.append(runtime)
        harness = ControlHarness(runtime, settings)
        async with runtime.store.transaction() as conn:
            for name, role in (
                ("viewer", Role.VIEWER),
                ("operator", Role.OPERATOR),
                ("operator2", Role.OPERATOR),
                ("admin", Role.ADMIN),
            ):
                created = await tokens.create_token(conn, name=f"{name}-user", role=role, created_by="test")
                harness.secrets[name] = created.token
        return harness

    yield start
    for runtime in reversed(started):
        await runtime.stop()


# ---- events ----------------------------------------------------------------------------------


def lifecycle(issue_id: str | None = None, *, start: datetime | None = None) -> list[Envelope]:
    """Every event of one issue's run: detected → diagnosed → fixed → staging → production."""
    issue_id = issue_id or f"iss_{uuid.uuid4().hex[:8]}"
    t0 = start or datetime.now(UTC) - timedelta(minutes=30)
    detected = IssueDetected(
        producer=WATCHER,
        occurred_at=t0,
        issue_id=issue_id,
        target="shop",
        service="web",
        severity=Severity.P2,
        issue_type=IssueType.API_ERROR,
        title="TypeError: Cannot read properties of null (reading 'name')",
        message="TypeError: Cannot read properties of null (reading 'name')",
        fingerprint="9b1c0e5d2f3a4b6c",
        frequency=Frequency(count=5, window_seconds=300, total=5),
        affected_users=3,
        first_seen=t0 - timedelta(minutes=5),
        last_seen=t0,
        source="sentry",
    )
    brief = detected.brief()
    started = detected.follow_up(
        ActionRecorded,
        producer=INVESTIGATOR,
        action="investigator.diagnose",
        status=ActionStatus.STARTED,
        summary="diagnosing",
        occurred_at=t0 + timedelta(seconds=5),
    )
    diagnosis = detected.follow_up(
        DiagnosisReady,
        producer=INVESTIGATOR,
        occurred_at=t0 + timedelta(minutes=1),
        issue=brief,
        root_cause="getPractice returns null for an unknown id and the route reads practice.name",
        affected_file="src/app/api/practices/[id]/route.ts",
        affected_lines=LineRange(first=40, last=44),
        fix_strategy=FixStrategy.NULL_GUARD,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=5),
        provider="playbook",
        cost_usd=0.25,
    )
    diff = "--- a/route.ts\n+++ b/route.ts\n@@ -40 +40,2 @@\n+if (!practice) return notFound()\n"
    fix = diagnosis.follow_up(
        FixCommitted,
        producer=IMPLEMENTER,
        occurred_at=t0 + timedelta(minutes=3),
        issue=brief,
        repository="acme/shop",
        branch=f"agent/fix-{issue_id}",
        base_sha="a" * 40,
        commit_sha="f" * 40,
        files_changed=("src/app/api/practices/[id]/route.ts",),
        diff=diff,
        diff_hash="sha256:" + "5" * 64,
        strategy=FixStrategy.NULL_GUARD,
        tests=TestReport(
            command="npm test", outcome=TestOutcome.PASSED, passed=42, failed=0, duration_s=3.2, summary="42 passed"
        ),
        pr_url="https://github.com/acme/shop/pull/17",
        pr_number=17,
    )
    staging = fix.follow_up(
        DeploymentResult,
        producer=RELEASER,
        occurred_at=t0 + timedelta(minutes=10),
        issue=brief,
        run_id="run_1",
        stage=DeploymentStage.STAGING,
        outcome=DeploymentOutcome.PROMOTED,
        commit_sha="f" * 40,
        reason="staging checks held",
    )
    production = fix.follow_up(
        DeploymentResult,
        producer=RELEASER,
        occurred_at=t0 + timedelta(minutes=20),
        issue=brief,
        run_id="run_1",
        stage=DeploymentStage.PRODUCTION,
        outcome=DeploymentOutcome.PROMOTED,
        commit_sha="f" * 40,
        reason="all checks held for 600 s",
    )
    return [detected, started, diagnosis, fix, staging, production]


def approval_request(
    issue_id: str,
    *,
    requested_by: str = "implementer",
    expires_in: timedelta = timedelta(hours=1),
    approval_id: str | None = None,
) -> ApprovalRequested:
    """An ApprovalRequested for a fix of ``issue_id``."""
    diff = '--- a/package.json\n+++ b/package.json\n@@ -3 +3 @@\n-  "left-pad": "1.0.0"\n+  "left-pad": "1.3.0"\n'
    return ApprovalRequested(
        producer=IMPLEMENTER,
        issue_id=issue_id,
        approval_id=approval_id or f"apr_{uuid.uuid4().hex[:8]}",
        kind=ApprovalKind.FIX,
        requested_by=requested_by,
        reason="diff touches package.json",
        summary="bump left-pad",
        diff=diff,
        diff_hash="sha256:" + "7" * 64,
        expires_at=datetime.now(UTC) + expires_in,
    )


async def publish(bootstrap: str, topics: Any, events: list[Envelope], *, headers: dict[str, str] | None = None) -> None:
    """Publish events on the real broker, each on its topic, keyed by issue."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            value, key, hdrs = encode_event(event, extra_headers=headers)
            await producer.send_and_wait(
                topics.for_event(event), value, key=key, headers=[(k, v.encode()) for k, v in hdrs.items()]
            )
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def seed(control: ControlHarness, events: list[Envelope]) -> None:
    """Project events straight into the store (as the bus consumer would)."""
    from medic_control.projector import Delivered, project

    async with control.runtime.store.transaction() as conn:
        await project(conn, [Delivered(e) for e in events])


@contextmanager
def serve_in_thread(app: Any, *, timeout: float = 60.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn (lifespan on) in a background thread; yield its base URL."""
    import socket
    import threading

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn-test")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("control-api did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextmanager
def control_server(
    kafka_bootstrap: str, tmp_path: Path, *, admin_token: str, **overrides: Any
) -> Iterator[tuple[str, ControlHarness]]:
    """control-api served over real HTTP (its own thread and loop) with an admin token; yields (URL, harness)."""
    from medic_runtime.kafka_admin import declare_topics

    prefix = overrides.pop("topic_prefix", None) or f"t{uuid.uuid4().hex[:10]}."
    asyncio.run(declare_topics(kafka_bootstrap, TopicRegistry(prefix)))
    values: dict[str, Any] = {
        "service_name": "control-api",
        "instance_id": f"control-api-{uuid.uuid4().hex[:6]}",
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": prefix,
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_interval_ms": 500,
        "store_url": f"sqlite+aiosqlite:///{tmp_path / f'medic-{uuid.uuid4().hex[:6]}.db'}",
        "delivery_backoff_ms": 20,
        "control_catch_up_timeout_s": 10,
        "log_format": "text",
        "bootstrap_admin_token": admin_token,
        "projector_enabled": False,
        **overrides,
    }
    settings = ControlSettings(**values)
    runtime = build(settings)
    with serve_in_thread(runtime.http) as url:
        yield url, ControlHarness(runtime, settings, {"admin": admin_token})


@contextmanager
def dashboard_stack(kafka_bootstrap: str, tmp_path: Path, *, admin_token: str) -> Iterator[tuple[str, str]]:
    """control-api over HTTP with its projector, beside a bare watcher runtime whose /healthz and /logs the
    dashboard reads; yields (control-api URL, topic prefix)."""
    from medic_runtime.kafka_admin import declare_topics

    prefix = f"t{uuid.uuid4().hex[:10]}."
    asyncio.run(declare_topics(kafka_bootstrap, TopicRegistry(prefix)))
    watcher = ServiceRuntime(
        ServiceSettings(
            service_name="watcher",
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=prefix,
            store_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
            kafka_session_timeout_ms=2000,
            kafka_heartbeat_interval_ms=500,
            log_format="text",
        )
    )
    with (
        serve_in_thread(watcher.http) as watcher_url,
        control_server(
            kafka_bootstrap,
            tmp_path,
            admin_token=admin_token,
            topic_prefix=prefix,
            projector_enabled=True,
            service_urls={"watcher": watcher_url},
        ) as (url, _control),
    ):
        yield url, prefix
