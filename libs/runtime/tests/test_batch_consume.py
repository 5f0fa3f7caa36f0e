"""Batch subscriptions (``rt.consume_batch``): one call per delivery batch, with the same guarantees."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from medic_contracts import ActionRecorded, ActionStatus, DeadLetter, Producer, TopicName, TopicRegistry
from medic_runtime import Delivery, HandlerContext, ServiceRuntime, ServiceSettings
from medic_runtime.bus import encode_event

from .conftest import decode, eventually, read_topic
from .test_bus import produce

pytestmark = pytest.mark.kafka

SOURCE = Producer(service="test", instance="t-1")


def action(summary: str) -> ActionRecorded:
    return ActionRecorded(producer=SOURCE, issue_id="iss_1", action="test.step", status=ActionStatus.SUCCEEDED, summary=summary)


async def test_a_batch_handler_gets_many_events_per_call_once_each_and_its_emits_are_published(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("batcher"))
    calls: list[list[str]] = []

    @rt.consume_batch(TopicName.ACTIONS, ActionRecorded)
    async def handle(batch: Sequence[tuple[Any, Delivery]], ctx: HandlerContext) -> None:
        calls.append([event.summary for event, _delivery in batch])
        for event, _delivery in batch:
            if event.summary.startswith("n="):
                ctx.emit(
                    event.follow_up(
                        ActionRecorded,
                        producer=SOURCE,
                        action="test.echo",
                        status=ActionStatus.SUCCEEDED,
                        summary=f"echo {event.summary}",
                    )
                )

    events = [action(f"n={i}") for i in range(50)]
    topic = topics.name(TopicName.ACTIONS)
    await produce(kafka_bootstrap, topic, [encode_event(e) for e in events])
    await produce(kafka_bootstrap, topic, [encode_event(events[0])])  # a duplicate
    await rt.start()
    try:
        await eventually(lambda: sum(len(c) for c in calls) >= 50)
        records = await read_topic(
            kafka_bootstrap, topic, until=lambda rs: sum(1 for e in decode(rs) if e.summary.startswith("echo")) >= 50
        )
    finally:
        await rt.stop()
    handled = [s for c in calls for s in c if s.startswith("n=")]
    assert sorted(handled) == sorted(e.summary for e in events)  # once each, the duplicate skipped
    assert max(len(c) for c in calls) > 1  # batched
    assert len([e for e in decode(records) if e.summary.startswith("echo")]) == 50


async def test_a_failing_batch_is_retried_one_event_at_a_time_and_the_poison_event_is_dead_lettered(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("batcher", delivery_attempts=2))
    done: list[str] = []

    @rt.consume_batch(TopicName.ACTIONS, ActionRecorded)
    async def handle(batch: Sequence[tuple[Any, Delivery]], ctx: HandlerContext) -> None:
        if any(event.summary == "poison" for event, _ in batch):
            raise RuntimeError("cannot project this one")
        done.extend(event.summary for event, _ in batch)

    topic = topics.name(TopicName.ACTIONS)
    await produce(kafka_bootstrap, topic, [encode_event(action(s)) for s in ("a", "poison", "b")])
    await rt.start()
    try:
        await eventually(lambda: {"a", "b"} <= set(done))
        letters = await read_topic(
            kafka_bootstrap, topics.name(TopicName.DLQ), until=lambda rs: any(isinstance(e, DeadLetter) for e in decode(rs))
        )
    finally:
        await rt.stop()
    assert "poison" not in done
    letter = next(e for e in decode(letters) if isinstance(e, DeadLetter))
    assert letter.error_type == "RuntimeError" and letter.attempts == 2
