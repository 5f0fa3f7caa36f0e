"""A broker restart (memory-only Tansu: topics, offsets, groups and producer ids all lost) is survivable.

Each test runs a real service process (the runtime's echo service) against its own embedded broker,
restarts that broker on the same port without declaring anything, and checks what an operator
relies on: events keep flowing with nothing stuck in the outbox, a pause sent after the restart
reaches the service, and readiness/liveness say the truth while the broker is away.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    CommandName,
    ControlCommand,
    Envelope,
    Producer,
    TopicName,
    TopicRegistry,
)
from medic_runtime.bus import encode_event
from medic_runtime.embedded import EmbeddedBroker
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess
from medic_testing.runtime.restartable import RestartableBroker
from medic_testing.runtime.topics import read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

SOURCE = Producer(service="test", instance="test-1")


@pytest.fixture
def broker() -> Iterator[RestartableBroker]:
    b = RestartableBroker()
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def prefix() -> str:
    return f"r{uuid.uuid4().hex[:8]}."


def echo_service(broker: RestartableBroker, prefix: str, tmp_path: Path, **extra: str) -> ServiceProcess:
    env = test_env(broker.bootstrap, prefix, tmp_path)
    env.update(
        {
            "MEDIC_DATA_DIR": str(tmp_path / "echo"),
            "MEDIC_ECHO_IN": f"{prefix}in",
            "MEDIC_ECHO_OUT": f"{prefix}out",
            "MEDIC_ECHO_GROUP": f"{prefix}echo",
            # Aborting a send quickly makes the test's outages short; the defaults are the same logic, slower.
            "MEDIC_OUTBOX_ACK_TIMEOUT_S": "5",
            "MEDIC_KAFKA_REQUEST_TIMEOUT_MS": "5000",
        }
    )
    env.update(extra)
    return ServiceProcess.module("echo", "medic_testing.runtime.echo", env=env, log_dir=tmp_path)


def action(n: int) -> ActionRecorded:
    return ActionRecorded(
        producer=SOURCE, issue_id=f"iss_{n}", action="test.step", status=ActionStatus.SUCCEEDED, summary=f"n={n}"
    )


async def publish(bootstrap: str, topic: str, events: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        for event in events:
            value, key, hdrs = encode_event(event)
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in hdrs.items()])
    finally:
        await producer.stop()


def echoed_inputs(bootstrap: str, topic: str, wanted: set[str], *, timeout: float = 40.0) -> set[str]:
    """The input event ids the echo service has answered on ``topic`` (waits until ``wanted`` are there)."""

    def inputs(events: list[Any]) -> set[str]:
        return {str(e.details.get("input_event_id")) for e in events if isinstance(e, ActionRecorded)}

    events = asyncio.run(read_topic(bootstrap, topic, timeout=timeout, until=lambda e: wanted <= inputs(e)))
    return inputs(events)


def outbox_rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "echo" / "echo.db") as db:
        return int(db.execute("select count(*) from outbox").fetchone()[0])


def wait_for(check: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    return False


def topics_exist(bootstrap: str, names: set[str]) -> bool:
    async def listed() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    return names <= asyncio.run(listed())


def partitions(bootstrap: str, topic: str) -> int:
    async def count() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([topic])
            return len(described["partitions"])
        finally:
            await admin.close()

    return asyncio.run(count())


def status(service: ServiceProcess, path: str) -> int:
    return httpx.get(service.url + path, timeout=2.0).status_code


def test_service_keeps_publishing_after_a_broker_restart_with_nothing_left_in_its_outbox(
    broker: RestartableBroker, prefix: str, tmp_path: Path
) -> None:
    with echo_service(broker, prefix, tmp_path) as service:
        service.wait_healthy(timeout=90)
        before = [action(i) for i in range(5)]
        asyncio.run(publish(broker.bootstrap, f"{prefix}in", before))
        assert {e.event_id for e in before} <= echoed_inputs(broker.bootstrap, f"{prefix}out", {e.event_id for e in before})

        # Restarted with its topics declared (as `medic dev up` does): producer ids, offsets and groups are gone.
        broker.restart(declare={**TopicRegistry(prefix).partitions(), f"{prefix}in": 3, f"{prefix}out": 3})
        service.wait_healthy(timeout=90)
        after = [action(100 + i) for i in range(5)]
        asyncio.run(publish(broker.bootstrap, f"{prefix}in", after))
        wanted = {e.event_id for e in after}
        seen = echoed_inputs(broker.bootstrap, f"{prefix}out", wanted, timeout=60)
        lost = len(wanted - seen)
        assert not lost, f"{lost} event(s) handled after the restart were never published\n{service.log_tail()}"
        assert wait_for(lambda: outbox_rows(tmp_path) == 0, timeout=20), "events left stuck in the outbox"


def test_pause_sent_after_a_broker_restart_reaches_the_service_within_two_seconds(
    broker: RestartableBroker, prefix: str, tmp_path: Path
) -> None:
    control = TopicRegistry(prefix).name(TopicName.CONTROL)
    with echo_service(broker, prefix, tmp_path) as service:
        service.wait_healthy(timeout=90)
        # Some control history before the restart, so the old position lies beyond the new log's end.
        history = [ControlCommand(producer=SOURCE, command=CommandName.PAUSE, reason="drill", paused=True, actor="test")]
        history.append(
            ControlCommand(producer=SOURCE, command=CommandName.RESUME, reason="drill over", paused=False, actor="test")
        )
        asyncio.run(publish(broker.bootstrap, control, list(history)))
        assert wait_for(lambda: service.health()["paused"] is False and status(service, "/readyz") == 200, timeout=10)

        # Restarted the way `medic dev up` does it: topics declared, everything else (offsets, groups) gone.
        broker.restart(declare={**TopicRegistry(prefix).partitions(), f"{prefix}in": 3, f"{prefix}out": 3})
        service.wait_healthy(timeout=90)
        pause = ControlCommand(producer=SOURCE, command=CommandName.PAUSE, reason="after restart", paused=True, actor="test")
        asyncio.run(publish(broker.bootstrap, control, [pause]))
        sent = time.monotonic()
        reached = wait_for(lambda: service.health()["paused"] is True, timeout=2.0, interval=0.02)
        assert reached, f"pause not applied {time.monotonic() - sent:.1f}s after it was sent\n{service.log_tail()}"
        assert service.health()["pause_reason"] == "after restart"


#: Seeded as an admin token by control-api at start-up (MEDIC_BOOTSTRAP_ADMIN_TOKEN).
ADMIN_TOKEN = "mdc_broker_restart_admin_" + "0" * 24


def test_pause_from_control_api_after_a_broker_restart_reaches_the_service_within_two_seconds(
    broker: RestartableBroker, prefix: str, tmp_path: Path
) -> None:
    env = test_env(broker.bootstrap, prefix, tmp_path)
    env.update(
        {
            "MEDIC_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
            "MEDIC_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'medic.db'}",
            "MEDIC_DATA_DIR": str(tmp_path / "control"),
        }
    )
    control_api = ServiceProcess.console_script("control-api", "medic-control-api", env=env, log_dir=tmp_path)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with (
        control_api,
        echo_service(
            broker, prefix, tmp_path, MEDIC_CONTROL_API_URL=control_api.url, MEDIC_CONTROL_API_TOKEN=ADMIN_TOKEN
        ) as service,
    ):
        control_api.wait_healthy(timeout=120)
        service.wait_healthy(timeout=90)
        # Both sides have published and read control commands before the restart.
        httpx.post(control_api.url + "/api/v1/control/pause", json={"reason": "drill"}, headers=admin).raise_for_status()
        assert wait_for(lambda: service.health()["paused"] is True, timeout=10)
        httpx.post(control_api.url + "/api/v1/control/resume", json={}, headers=admin).raise_for_status()
        assert wait_for(lambda: service.health()["paused"] is False, timeout=10)

        broker.restart(declare={**TopicRegistry(prefix).partitions(), f"{prefix}in": 3, f"{prefix}out": 3})
        control_api.wait_healthy(timeout=90)
        service.wait_healthy(timeout=90)
        response = httpx.post(control_api.url + "/api/v1/control/pause", json={"reason": "after restart"}, headers=admin)
        assert response.status_code == 200
        sent = time.monotonic()
        reached = wait_for(lambda: service.health()["paused"] is True, timeout=2.0, interval=0.02)
        waited = time.monotonic() - sent
        logs = f"{control_api.log_tail()}\n{service.log_tail()}"
        assert reached, f"pause not applied {waited:.1f}s after control-api took it\n{logs}"
        assert service.health()["pause_reason"] == "after restart"


def test_readiness_and_liveness_follow_an_outbox_that_cannot_drain_and_recover_with_the_broker(
    broker: RestartableBroker, prefix: str, tmp_path: Path
) -> None:
    # The heartbeat writes to the outbox every 0.2 s, also while the broker is away.
    with echo_service(broker, prefix, tmp_path, MEDIC_ECHO_HEARTBEAT_S="0.2", MEDIC_OUTBOX_STALL_LIVE_S="4") as service:
        service.wait_healthy(timeout=90)
        assert status(service, "/healthz") == 200

        broker.stop()
        assert wait_for(lambda: status(service, "/readyz") == 503, timeout=20), "still ready with the broker gone"
        stuck_past_bound = wait_for(lambda: status(service, "/healthz") == 503, timeout=30)
        assert stuck_past_bound, "still alive with the outbox stuck past its bound"
        assert outbox_rows(tmp_path) > 0

        broker.broker = EmbeddedBroker(port=broker.port)
        broker.start()  # nothing declared: the service declares its topics again by itself
        wanted_topics = {f"{prefix}in", f"{prefix}out", TopicRegistry(prefix).name(TopicName.CONTROL)}
        assert wait_for(lambda: topics_exist(broker.bootstrap, wanted_topics), timeout=30), "topics not declared again"
        assert partitions(broker.bootstrap, TopicRegistry(prefix).name(TopicName.CONTROL)) == 1
        assert wait_for(lambda: status(service, "/readyz") == 200, timeout=90), f"not ready again\n{service.log_tail()}"
        assert status(service, "/healthz") == 200
        beats = asyncio.run(
            read_topic(
                broker.bootstrap,
                f"{prefix}out",
                timeout=30,
                until=lambda e: any(isinstance(x, ActionRecorded) and x.action == "echo.heartbeat" for x in e),
            )
        )
        assert any(isinstance(x, ActionRecorded) and x.action == "echo.heartbeat" for x in beats)
        # Everything written while the broker was away is delivered (the heartbeat keeps adding: a few may be in flight).
        assert wait_for(lambda: outbox_rows(tmp_path) <= 3, timeout=30), "outbox did not drain after the broker came back"
