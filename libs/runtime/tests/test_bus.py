"""Delivery guarantees of the bus on a real broker: idempotency, replay, retries, DLQ, outbox."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from medic_contracts import ActionRecorded, ActionStatus, DeadLetter, Producer, TopicName, TopicRegistry
from medic_runtime import HandlerContext, ServiceRuntime, ServiceSettings
from medic_runtime.bus import HEADER_REPLAY_OF, encode_event

from .conftest import decode, eventually, read_topic

pytestmark = pytest.mark.kafka

SOURCE = Producer(service="test", instance="t-1")


def action(n: int, issue: str = "iss_1") -> ActionRecorded:
    return ActionRecorded(producer=SOURCE, issue_id=issue, action="test.step", status=ActionStatus.SUCCEEDED, summary=f"n={n}")


async def produce(bootstrap: str, topic: str, values: list[tuple[bytes, bytes | None, dict[str, str]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value, key, headers in values:
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()


async def test_duplicate_delivery_causes_one_side_effect_and_replay_is_reprocessed(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("consumer"))
    seen: list[tuple[str, str | None]] = []

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        seen.append((event.summary, ctx.delivery.replay_of))

    await rt.start()
    try:
        original = action(1)
        value, key, headers = encode_event(original)
        topic = topics.name(TopicName.ACTIONS)
        await produce(kafka_bootstrap, topic, [(value, key, headers), (value, key, headers)])
        replay = original.with_fresh_id()
        rvalue, rkey, rheaders = encode_event(replay, extra_headers={HEADER_REPLAY_OF: original.event_id})
        await produce(kafka_bootstrap, topic, [(rvalue, rkey, rheaders)])
        await eventually(lambda: len(seen) >= 2)
        await produce(kafka_bootstrap, topic, [encode_event(action(99))])  # a marker: everything before it was handled
        await eventually(lambda: any(s == "n=99" for s, _ in seen))
        assert seen == [("n=1", None), ("n=1", original.event_id), ("n=99", None)]
    finally:
        await rt.stop()


async def test_malformed_and_failing_messages_go_to_dlq_and_the_partition_keeps_flowing(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("consumer", delivery_attempts=3))
    handled: list[str] = []
    attempts: dict[str, int] = {}

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        attempts[event.summary] = attempts.get(event.summary, 0) + 1
        if event.summary == "n=poison":
            raise RuntimeError("cannot handle this one")
        handled.append(event.summary)

    await rt.start()
    try:
        topic = topics.name(TopicName.ACTIONS)
        poison = ActionRecorded(producer=SOURCE, issue_id="iss_1", action="x", status=ActionStatus.FAILED, summary="n=poison")
        # All on one key, so one partition: the valid messages sit behind the bad ones.
        await produce(
            kafka_bootstrap,
            topic,
            [
                (b"{not json", b"iss_1", {}),
                (b'{"event_type": "action_recorded", "summary": 1}', b"iss_1", {}),
                encode_event(poison),
                encode_event(action(2)),
                encode_event(action(3)),
            ],
        )
        await eventually(lambda: handled == ["n=2", "n=3"], timeout=20)
        records = await read_topic(kafka_bootstrap, topics.name(TopicName.DLQ), until=lambda r: len(r) >= 3)
        letters = [e for e in decode(records) if isinstance(e, DeadLetter)]
        assert len(letters) == 3
        by_value = {base64.b64decode(d.value_b64): d for d in letters}
        assert by_value[b"{not json"].permanent and by_value[b"{not json"].attempts == 1
        failing = next(d for d in letters if d.error_type == "RuntimeError")
        assert failing.attempts == 3 and not failing.permanent
        assert attempts["n=poison"] == 3
        headers = {r.offset: dict(r.headers) for r in records}
        assert all(b"medic-error-type" in [k.encode() for k in h] for h in headers.values())
    finally:
        await rt.stop()


async def test_events_emitted_by_a_handler_are_published_through_the_outbox(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("relay"))

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        if event.action == "test.step":
            ctx.record("relay.seen", ActionStatus.SUCCEEDED, f"saw {event.summary}", caused_by=event)

    await rt.start()
    try:
        source = action(7)
        await produce(kafka_bootstrap, topics.name(TopicName.ACTIONS), [encode_event(source)])
        records = await read_topic(
            kafka_bootstrap, topics.name(TopicName.ACTIONS), until=lambda r: any(b"relay.seen" in (x.value or b"") for x in r)
        )
        out = [e for e in decode(records) if isinstance(e, ActionRecorded) and e.action == "relay.seen"]
        assert len(out) == 1
        assert out[0].causation_id == source.event_id and out[0].correlation_id == source.correlation_id
        assert out[0].producer.service == "relay"
    finally:
        await rt.stop()
