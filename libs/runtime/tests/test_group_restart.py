"""A service whose consumers share one group can be stopped and started again on that group.

On the embedded broker (Tansu 0.6), a group's leader that leaves while the group re-forms stays
its leader: every later join is answered with the departed leader and ``consumer.start()`` never
returns (``kafka_compat`` fix 3). FastStream stops all consumers at once, which makes exactly that
likely. The bus leaves its groups one consumer at a time, and a follower stuck under a departed
leader takes over its member id. These tests pin each part: the leaves do not overlap; a group
wedged on purpose (raw protocol requests) is joined; a restart on the same group joins, round
after round.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaClient, AIOKafkaConsumer
from aiokafka.client import ConnectionGroup
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata
from aiokafka.protocol.group import JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest

from medic_contracts import ActionRecorded, DiagnosisReady, IssueDetected, TopicName
from medic_runtime import HandlerContext, ServiceRuntime, ServiceSettings
from medic_runtime.aio import bounded
from medic_testing.runtime.settle import wait_settled

pytestmark = pytest.mark.kafka

ROUNDS = 3
JOIN_TIMEOUT_S = 60.0


def three_consumers(settings: ServiceSettings) -> ServiceRuntime:
    """A runtime with three subscriptions in the service's one group (as the releaser has)."""
    rt = ServiceRuntime(settings)

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def on_action(event: ActionRecorded, ctx: HandlerContext) -> None:
        return None

    @rt.consume(TopicName.ISSUES_DETECTED, IssueDetected)
    async def on_issue(event: IssueDetected, ctx: HandlerContext) -> None:
        return None

    @rt.consume(TopicName.DIAGNOSES_READY, DiagnosisReady)
    async def on_diagnosis(event: DiagnosisReady, ctx: HandlerContext) -> None:
        return None

    return rt


def record_stops(rt: ServiceRuntime, spans: list[tuple[float, float]]) -> None:
    """Wrap each consumer's stop to record when it ran."""
    for sub in rt.bus.subscriptions:
        subscriber: Any = sub.subscriber
        original = subscriber.stop

        async def timed(original: Callable[[], Any] = original) -> None:
            started = time.monotonic()
            await original()
            spans.append((started, time.monotonic()))

        subscriber.stop = timed


async def test_the_consumers_of_one_group_leave_one_after_another(service_settings: Callable[..., ServiceSettings]) -> None:
    rt = three_consumers(service_settings("grouped"))
    spans: list[tuple[float, float]] = []
    record_stops(rt, spans)
    await rt.start()
    await wait_settled(rt)
    await rt.stop()
    first_three = sorted(spans)[:3]
    assert len(first_three) == 3, spans
    for (_, end), (start, _) in itertools.pairwise(first_three):
        assert start >= end, f"consumer stops overlapped: {first_three}"


async def test_a_service_restarted_on_its_group_joins_every_time(service_settings: Callable[..., ServiceSettings]) -> None:
    settings = service_settings("restarted")
    for round_ in range(ROUNDS):
        rt = three_consumers(settings.model_copy(update={"instance_id": f"restarted-{round_}"}))
        try:
            await bounded(rt.start(), JOIN_TIMEOUT_S)
        except TimeoutError:
            pytest.fail(f"round {round_}: the restarted service did not join its group in {JOIN_TIMEOUT_S:.0f} s")
        await wait_settled(rt)
        await rt.stop()


async def _join(client: AIOKafkaClient, node: int, group: str, topic: str, member_id: str = "") -> Any:
    metadata = ConsumerProtocolMemberMetadata(0, [topic], b"").encode()
    while True:
        request = JoinGroupRequest(group, 10_000, 10_000, member_id, None, "consumer", [("roundrobin", metadata)])
        response = await client.send(node, request, group=ConnectionGroup.COORDINATION)
        if response.error_code == 79:  # MEMBER_ID_REQUIRED (KIP-394): join again with the id given
            member_id = response.member_id
            continue
        assert response.error_code == 0, response
        return response


@pytest.mark.skipif(bool(os.environ.get("MEDIC_TEST_KAFKA")), reason="wedges the embedded broker's group state on purpose")
async def test_a_consumer_joins_a_group_whose_departed_leader_never_syncs(kafka_bootstrap: str, topic_prefix: str) -> None:
    from medic_runtime import kafka_compat

    kafka_compat.apply()
    group, topic = f"{topic_prefix}wedged-{uuid.uuid4().hex[:6]}", f"{topic_prefix}{TopicName.ACTIONS.value}"
    client = AIOKafkaClient(bootstrap_servers=kafka_bootstrap)
    await client.bootstrap()
    try:
        node = next(iter(client.cluster.brokers())).nodeId
        leader = await _join(client, node, group, topic)
        assert leader.leader_id == leader.member_id
        sync = SyncGroupRequest(group, leader.generation_id, leader.member_id, None, [])
        await client.send(node, sync, group=ConnectionGroup.COORDINATION)
        follower = await _join(client, node, group, topic)  # the group re-forms under the same leader
        assert follower.leader_id == leader.member_id != follower.member_id
        for member in (leader.member_id, follower.member_id):  # the leader leaves while it re-forms, then the rest
            await client.send(node, LeaveGroupRequest(group, member), group=ConnectionGroup.COORDINATION)
    finally:
        await client.close()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id=group, session_timeout_ms=2000, heartbeat_interval_ms=500
    )
    try:
        await bounded(consumer.start(), JOIN_TIMEOUT_S)
        assert consumer.assignment()
    except TimeoutError:
        pytest.fail(f"the consumer did not join the wedged group in {JOIN_TIMEOUT_S:.0f} s")
    finally:
        await consumer.stop()
