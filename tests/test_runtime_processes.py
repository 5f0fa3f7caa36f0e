"""The runtime across real processes on a real broker: trace context, consumer groups, pause, bad settings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace

from medic_contracts import ActionRecorded, ActionStatus, Producer, TopicName, TopicRegistry
from medic_runtime.kafka_admin import declare_topics
from medic_runtime.observability import configure_tracing
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

from .conftest import publish, read_events

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

SOURCE = Producer(service="test", instance="test-1")


def action(n: int, *, issue: str | None = None) -> ActionRecorded:
    return ActionRecorded(
        producer=SOURCE, issue_id=issue or f"iss_{n}", action="test.step", status=ActionStatus.SUCCEEDED, summary=f"n={n}"
    )


def echo(name: str, env: dict[str, str], tmp_path: Path, **extra: str) -> ServiceProcess:
    return ServiceProcess.module(
        name,
        "medic_testing.runtime.echo",
        # each instance its own store, as separate pods would have (or one shared PostgreSQL)
        env={**env, "MEDIC_DATA_DIR": str(tmp_path / name), **{f"MEDIC_ECHO_{k.upper()}": v for k, v in extra.items()}},
        log_dir=tmp_path,
    )


@pytest.fixture
def env(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> dict[str, str]:
    return test_env(kafka_bootstrap, topic_prefix, tmp_path)


def test_event_crosses_two_processes_with_trace_context_intact(
    kafka_bootstrap: str, topic_prefix: str, env: dict[str, str], tmp_path: Path
) -> None:
    x, y, z = (f"{topic_prefix}x", f"{topic_prefix}y", f"{topic_prefix}z")
    asyncio.run(declare_topics(kafka_bootstrap, {x: 3, y: 3, z: 3}))
    first = echo("echo-a", env, tmp_path, **{"in": x, "out": y, "group": "a"})
    second = echo("echo-b", env, tmp_path, **{"in": y, "out": z, "group": "b"})
    with first, second:
        first.wait_healthy(timeout=90)
        second.wait_healthy(timeout=90)
        configure_tracing(service="test", instance="test-1")
        origin = action(1)
        with trace.get_tracer("test").start_as_current_span("origin") as span:
            trace_id = f"{span.get_span_context().trace_id:032x}"
            asyncio.run(publish(kafka_bootstrap, x, [origin]))
        out = asyncio.run(read_events(kafka_bootstrap, z, until=lambda e: len(e) >= 1))
        mid = asyncio.run(read_events(kafka_bootstrap, y, until=lambda e: len(e) >= 1))
    assert len(out) == 1 and len(mid) == 1
    final, middle = out[0], mid[0]
    assert isinstance(final, ActionRecorded) and isinstance(middle, ActionRecorded)
    assert middle.details["trace_id"] == trace_id, "first process continued the producer's trace"
    assert final.details["trace_id"] == trace_id, "second process continued the same trace"
    assert middle.causation_id == origin.event_id and final.causation_id == middle.event_id
    assert final.correlation_id == origin.correlation_id
    assert middle.producer.instance != final.producer.instance


def test_two_instances_split_a_topic_and_the_survivor_takes_over_after_a_kill(
    kafka_bootstrap: str, topic_prefix: str, env: dict[str, str], tmp_path: Path
) -> None:
    src, out = f"{topic_prefix}work", f"{topic_prefix}done"
    asyncio.run(declare_topics(kafka_bootstrap, {src: 3, out: 1}))
    one = echo("echo-1", env, tmp_path, **{"in": src, "out": out, "group": "split"})
    two = echo("echo-2", env, tmp_path, **{"in": src, "out": out, "group": "split"})
    with one, two:
        one.wait_healthy(timeout=90)
        two.wait_healthy(timeout=90)
        sent: list[ActionRecorded] = []
        deadline = time.monotonic() + 40
        instances: set[str] = set()
        # Keep publishing small batches until both instances have handled some: the group has settled.
        while len(instances) < 2 and time.monotonic() < deadline:
            batch = [action(len(sent) + i) for i in range(12)]
            sent.extend(batch)
            asyncio.run(publish(kafka_bootstrap, src, batch))
            seen = asyncio.run(read_events(kafka_bootstrap, out, until=lambda e: len(e) >= len(sent), timeout=5))
            instances = {str(e.details["instance"]) for e in seen if isinstance(e, ActionRecorded)}
        assert len(instances) == 2, f"work was not split across both instances: {instances}"
        one.kill()  # a crash: no graceful leave, nothing flushed
        after = [action(1000 + i) for i in range(30)]
        asyncio.run(publish(kafka_bootstrap, src, after))
        everything = {e.event_id for e in [*sent, *after]}
        seen = asyncio.run(
            read_events(
                kafka_bootstrap,
                out,
                timeout=40,
                until=lambda e: everything <= {str(x.details["input_event_id"]) for x in e if isinstance(x, ActionRecorded)},
            )
        )
    handled = {str(e.details["input_event_id"]) for e in seen if isinstance(e, ActionRecorded)}
    assert everything <= handled, f"lost {len(everything - handled)} event(s)"
    survivor = {
        str(e.details["instance"])
        for e in seen
        if isinstance(e, ActionRecorded) and str(e.details["input_event_id"]) in {a.event_id for a in after}
    }
    assert len(survivor) == 1, "after the kill one instance handled everything"


AGENTS = ("watcher", "investigator", "implementer", "releaser")
#: Seeded as an admin token by control-api at start-up (MEDIC_BOOTSTRAP_ADMIN_TOKEN).
ADMIN_TOKEN = "mdc_cross_process_admin_" + "0" * 24
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def stack(env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    # control-api's store defaults to ./medic.db: keep each run's in its temp directory.
    control_env = {
        **env,
        "MEDIC_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "MEDIC_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'medic.db'}",
    }
    procs = {"control-api": ServiceProcess.console_script("control-api", "medic-control-api", env=control_env, log_dir=tmp_path)}
    for agent in AGENTS:
        procs[agent] = ServiceProcess.console_script(agent, f"medic-{agent}", env=env, log_dir=tmp_path)
    try:
        for p in procs.values():
            p.start()
        for p in procs.values():
            p.wait_healthy(timeout=120)
        yield procs
    finally:
        for p in procs.values():
            p.stop()


def test_pause_from_control_api_reaches_all_four_agents_within_a_second_and_refuses_side_effects(
    stack: dict[str, ServiceProcess], kafka_bootstrap: str, topic_prefix: str, env: dict[str, str], tmp_path: Path
) -> None:
    topics = TopicRegistry(topic_prefix)
    src = f"{topic_prefix}effects"
    asyncio.run(declare_topics(kafka_bootstrap, {src: 1}))
    worker = echo("echo-effects", env, tmp_path, **{"in": src, "out": topics.name(TopicName.ACTIONS), "side_effect": "true"})
    with worker:
        worker.wait_healthy(timeout=90)
        assert not any(stack[a].health()["paused"] for a in AGENTS)
        response = httpx.post(stack["control-api"].url + "/api/v1/control/pause", json={"reason": "incident"}, headers=ADMIN)
        assert response.status_code == 200
        sent_at = time.monotonic()
        pending = set(AGENTS)
        while pending and time.monotonic() - sent_at < 1.0:
            pending = {a for a in pending if not stack[a].health()["paused"]}
            time.sleep(0.02)
        assert not pending, f"not paused within 1 s: {pending}"
        assert all(stack[a].health()["pause_reason"] == "incident" for a in AGENTS)

        deadline = time.monotonic() + 5
        while not worker.health()["paused"] and time.monotonic() < deadline:
            time.sleep(0.05)
        attempt = action(7)
        asyncio.run(publish(kafka_bootstrap, src, [attempt]))
        events = asyncio.run(
            read_events(
                kafka_bootstrap,
                topics.name(TopicName.ACTIONS),
                until=lambda e: any(isinstance(x, ActionRecorded) and x.causation_id == attempt.event_id for x in e),
            )
        )
        outcome = [e for e in events if isinstance(e, ActionRecorded) and e.causation_id == attempt.event_id]
        assert [e.status for e in outcome] == [ActionStatus.REFUSED]
        assert "paused" in outcome[0].summary or "incident" in outcome[0].summary

        httpx.post(stack["control-api"].url + "/api/v1/control/resume", json={}, headers=ADMIN).raise_for_status()
        deadline = time.monotonic() + 2
        while any(stack[a].health()["paused"] for a in AGENTS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(stack[a].health()["paused"] for a in AGENTS)


@pytest.mark.parametrize("script", ["medic-watcher", "medic-control-api"])
def test_bad_settings_stop_start_up_with_a_message_naming_the_field(script: str) -> None:
    exe = Path(sys.executable).with_name(script)
    result = subprocess.run(
        [str(exe)],
        env={**os.environ, "MEDIC_KAFKA_BOOTSTRAP": "not a host:port"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MEDIC_KAFKA_BOOTSTRAP" in result.stderr
    assert "Traceback" not in result.stderr
