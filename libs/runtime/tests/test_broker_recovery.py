"""Broker loss: the verdicts (pure), and a runtime that keeps publishing and following control after a broker restart.

The in-process tests run their own embedded broker (memory-only Tansu) and restart it on the same
port: producer ids, committed offsets, groups and (unless declared again) topics are gone.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaConnectionError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)
from sqlalchemy import func, select

from medic_contracts import ActionRecorded, ActionStatus, CommandName, ControlCommand, Producer, TopicName, TopicRegistry
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_runtime.broker_watch import BrokerView, BrokerWatch, Verdict, assess
from medic_runtime.control import restarted_log
from medic_runtime.embedded import EmbeddedBroker
from medic_runtime.producer import needs_new_producer
from medic_runtime.store import outbox

from .conftest import decode, eventually, read_topic

SOURCE = Producer(service="test", instance="t-1")
WANTED = frozenset({"medic.control", "medic.actions"})


# ---- verdicts ------------------------------------------------------------------------------------


def test_a_broker_that_answers_with_every_topic_is_ok() -> None:
    view = BrokerView("c1", WANTED)
    assert assess(last=view, was_reachable=True, now=view, wanted=WANTED).code is Verdict.OK


def test_no_answer_is_unreachable() -> None:
    assert assess(last=None, was_reachable=True, now=None, wanted=WANTED).code is Verdict.UNREACHABLE


def test_an_answer_after_an_outage_is_a_recovery_even_with_every_topic_there() -> None:
    view = BrokerView("c1", WANTED)
    verdict = assess(last=view, was_reachable=False, now=view, wanted=WANTED)
    assert verdict.code is Verdict.CAME_BACK and verdict.recovered


def test_missing_topics_are_a_recovery_that_names_them() -> None:
    verdict = assess(last=None, was_reachable=True, now=BrokerView("c1", frozenset({"medic.actions"})), wanted=WANTED)
    assert verdict.code is Verdict.TOPICS_LOST and verdict.missing == {"medic.control"} and verdict.recovered


def test_another_cluster_id_is_a_recovery() -> None:
    verdict = assess(last=BrokerView("c1", WANTED), was_reachable=True, now=BrokerView("c2", WANTED), wanted=WANTED)
    assert verdict.code is Verdict.CLUSTER_CHANGED and verdict.recovered


@pytest.mark.parametrize(
    "error", [UnknownProducerId(), OutOfOrderSequenceNumber(), ProducerFenced(), InvalidProducerEpoch(), TimeoutError()]
)
def test_lost_producer_state_and_unacknowledged_sends_need_a_new_producer(error: BaseException) -> None:
    assert needs_new_producer(error)


@pytest.mark.parametrize("error", [NotLeaderForPartitionError(), KafkaConnectionError(), ValueError("bad")])
def test_retriable_and_unrelated_errors_keep_the_producer(error: BaseException) -> None:
    assert not needs_new_producer(error)


def test_a_position_beyond_the_end_means_the_log_was_recreated() -> None:
    assert restarted_log(position=12, end=1)
    assert not restarted_log(position=12, end=12)
    assert not restarted_log(position=3, end=12)


# ---- against a broker that restarts --------------------------------------------------------------


class Restartable:
    def __init__(self) -> None:
        self.broker = EmbeddedBroker()

    async def restart(self, declare: dict[str, int] | None) -> None:
        await asyncio.to_thread(self.broker.stop)
        self.broker = EmbeddedBroker(port=self.broker.port)
        await self.broker.start(declare)


@pytest.fixture
async def broker() -> AsyncIterator[Restartable]:
    b = Restartable()
    await b.broker.start()
    try:
        yield b
    finally:
        await asyncio.to_thread(b.broker.stop)


@pytest.fixture
def settings(broker: Restartable, service_settings: Callable[..., ServiceSettings]) -> ServiceSettings:
    return service_settings(
        "svc",
        kafka_bootstrap=broker.broker.bootstrap,
        topic_prefix=f"r{uuid.uuid4().hex[:8]}.",
        outbox_ack_timeout_s=5.0,
        kafka_request_timeout_ms=5000,
    )


def action(n: int) -> ActionRecorded:
    return ActionRecorded(producer=SOURCE, issue_id=f"iss_{n}", action="step", status=ActionStatus.SUCCEEDED, summary=f"n={n}")


async def outbox_rows(rt: ServiceRuntime) -> int:
    async with rt.store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())


@pytest.mark.kafka
async def test_events_emitted_after_a_broker_restart_are_published_through_a_new_producer(
    settings: ServiceSettings, broker: Restartable
) -> None:
    rt = ServiceRuntime(settings)
    actions = rt.topics.name(TopicName.ACTIONS)
    await rt.start()
    try:
        first = action(1)
        await rt.emit(first)
        await read_topic(rt.settings.kafka_bootstrap, actions, until=lambda r: len(r) >= 1)
        await broker.restart(rt.topic_plan())
        second = action(2)
        await rt.emit(second)
        records = await read_topic(
            rt.settings.kafka_bootstrap,
            actions,
            timeout=40,
            until=lambda r: any(e.event_id == second.event_id for e in decode(r)),
        )
        assert second.event_id in {e.event_id for e in decode(records)}
        assert rt.bus.producer_client.generation >= 1, "the producer the broker forgot was replaced"
        assert await eventually(lambda: _empty(rt), timeout=20), "events left in the outbox"
    finally:
        await rt.stop()


async def _empty(rt: ServiceRuntime) -> bool:
    return await outbox_rows(rt) == 0


@pytest.mark.kafka
async def test_a_pause_on_a_control_log_recreated_by_a_restart_is_applied(settings: ServiceSettings, broker: Restartable) -> None:
    rt = ServiceRuntime(settings)
    await rt.start()
    try:
        for cmd in (CommandName.PAUSE, CommandName.RESUME):
            await rt.bus.publish_now(
                ControlCommand(producer=SOURCE, command=cmd, actor="test", paused=cmd is CommandName.PAUSE, reason="drill")
            )
        await eventually(lambda: rt.control.last_command_at is not None and not rt.paused, timeout=10)
        await broker.restart(rt.topic_plan())
        await rt.bus.publish_now(
            ControlCommand(producer=SOURCE, command=CommandName.PAUSE, actor="test", paused=True, reason="after restart")
        )
        sent = time.monotonic()
        await eventually(lambda: rt.paused, timeout=10)
        assert time.monotonic() - sent < 2.0
        assert rt.control.pause_reason == "after restart"
        assert rt.control.log_restarts == 1
    finally:
        await rt.stop()


@pytest.mark.kafka
async def test_a_pause_reaches_a_control_log_that_a_restarted_broker_auto_created_with_more_partitions(
    settings: ServiceSettings, broker: Restartable
) -> None:
    """The race behind a lost pause: after a restart, a client's metadata request auto-creates the control
    topic with the broker's default partition count before it is declared again with one. The runtime
    reads partition 0 only, so every control record must go there, whatever the topic's partition count."""
    rt = ServiceRuntime(settings)
    control = rt.topics.name(TopicName.CONTROL)
    seen: list[str] = []

    async def record(command: ControlCommand) -> None:
        seen.append(command.reason)

    rt.control.on(CommandName.PAUSE, record)
    await rt.start()
    try:
        plan = {t: (3 if t == control else n) for t, n in rt.topic_plan().items()}
        # The losing side of the race, made certain: the runtime's broker watch is held while the broker comes back
        # with the control topic as an auto-create makes it, so the watch's own re-declaration cannot come first.
        await rt.broker_watch.stop()
        await broker.restart(plan)
        rt.broker_watch.start()
        sent = [f"after {n}" for n in range(6)]
        for reason in sent:  # key-less records: a partitioner would spread them over the three partitions
            await rt.bus.publish_now(
                ControlCommand(producer=SOURCE, command=CommandName.PAUSE, actor="test", paused=True, reason=reason)
            )
        await eventually(lambda: len(seen) >= len(sent), timeout=10)
        assert seen == sent
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics([control])
        finally:
            await admin.close()
        [topic] = [t for t in described if t["topic"] == control]
        assert len(topic["partitions"]) >= 3  # more than the one partition every reader follows
    finally:
        await rt.stop()


@pytest.mark.kafka
async def test_the_broker_watch_declares_lost_topics_again_with_their_partition_counts(
    settings: ServiceSettings, broker: Restartable
) -> None:
    topics = TopicRegistry(settings.topic_prefix)
    watch = BrokerWatch(settings, wanted=topics.partitions)
    try:
        assert (await watch.check_once()).code is Verdict.TOPICS_LOST  # a new broker: nothing declared yet
        assert (await watch.check_once()).code is Verdict.OK
        await broker.restart(None)
        verdict = await watch.check_once()
        while verdict.code is Verdict.UNREACHABLE:
            verdict = await watch.check_once()
        assert verdict.code is Verdict.TOPICS_LOST and verdict.missing == set(topics.partitions())
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(list(topics.partitions()))}
        finally:
            await admin.close()
        assert described == topics.partitions()
        assert watch.recoveries == 2
    finally:
        await watch.stop()


@pytest.mark.kafka
async def test_a_broker_outage_that_kept_the_control_log_is_not_taken_for_a_restart(
    settings: ServiceSettings, broker: Restartable
) -> None:
    rt = ServiceRuntime(settings)
    await rt.start()
    try:
        await rt.bus.publish_now(
            ControlCommand(producer=SOURCE, command=CommandName.PAUSE, actor="test", paused=True, reason="a")
        )
        await eventually(lambda: rt.paused, timeout=10)
        rt.control.broker_recovered()  # as after a network blip: the same broker, the same log
        await rt.bus.publish_now(ControlCommand(producer=SOURCE, command=CommandName.RESUME, actor="test", paused=False))
        await eventually(lambda: not rt.paused, timeout=10)
        assert rt.control.log_restarts == 0
    finally:
        await rt.stop()
