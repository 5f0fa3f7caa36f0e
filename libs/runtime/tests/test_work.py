"""The durable work queue: priority order, dedup, crash recovery, retries, pause."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from medic_contracts import ActionRecorded, CommandName, ControlCommand, Producer, TopicName, TopicRegistry
from medic_runtime import RetryLater, ServiceRuntime, ServiceSettings, WorkContext, WorkItem
from medic_runtime.aio import bounded

from .conftest import decode, eventually, read_topic

pytestmark = pytest.mark.kafka

OPERATOR = Producer(service="control-api", instance="c-1")


async def publish_command(rt: ServiceRuntime, command: CommandName, **fields: Any) -> None:
    await rt.bus.publish_now(ControlCommand(producer=OPERATOR, command=command, actor="test", **fields))


async def test_higher_priority_work_is_taken_first_and_duplicates_are_ignored(
    service_settings: Callable[..., ServiceSettings],
) -> None:
    rt = ServiceRuntime(service_settings("worker"))
    order: list[str] = []

    @rt.worker("job")
    async def job(item: WorkItem, ctx: WorkContext) -> None:
        order.append(item.payload["name"])

    await rt.store.create_all()
    async with rt.store.transaction() as conn:
        for name, priority in [("p3-a", 3), ("p3-b", 3), ("p0", 0), ("p1", 1)]:
            assert await rt.work.enqueue(conn, kind="job", dedup_key=name, payload={"name": name}, priority=priority)
        assert not await rt.work.enqueue(conn, kind="job", dedup_key="p0", payload={"name": "again"}, priority=0)
    await rt.start()
    try:
        await eventually(lambda: len(order) == 4)
        assert order == ["p0", "p1", "p3-a", "p3-b"]
        assert (await rt.work.counts()) == {"done": 4}
    finally:
        await rt.stop()


async def test_work_left_running_by_a_crash_is_resumed_after_restart(service_settings: Callable[..., ServiceSettings]) -> None:
    settings = service_settings("worker")
    first = ServiceRuntime(settings)
    started = asyncio.Event()

    @first.worker("long")
    async def hang(item: WorkItem, ctx: WorkContext) -> None:
        started.set()
        await asyncio.sleep(3600)

    await first.start()
    async with first.store.transaction() as conn:
        await first.work.enqueue(conn, kind="long", dedup_key="w1", payload={})
    first.work.wake()
    await bounded(started.wait(), 10)
    row = await first.work.get("w1")
    assert row is not None and row["status"] == "running"
    # A crash: the process dies without finishing; its store keeps the item as running.
    for task in first.work.workers["long"].tasks:
        task.cancel()
    await first.stop()

    second = ServiceRuntime(settings)
    finished: list[int] = []

    @second.worker("long")
    async def finish(item: WorkItem, ctx: WorkContext) -> None:
        finished.append(item.attempts)

    await second.start()
    try:
        await eventually(lambda: finished)
        assert finished == [2], "the second attempt resumed the item"
        assert (await second.work.get("w1") or {})["status"] == "done"
    finally:
        await second.stop()


async def test_failures_retry_with_backoff_then_fail_and_are_audited(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("worker"))
    attempts: list[int] = []

    @rt.worker("flaky")
    async def flaky(item: WorkItem, ctx: WorkContext) -> None:
        attempts.append(item.attempts)
        ctx.record("flaky.partial", "succeeded", "must not be published")  # type: ignore[arg-type]
        raise RuntimeError("always broken")

    await rt.start()
    try:
        async with rt.store.transaction() as conn:
            await rt.work.enqueue(conn, kind="flaky", dedup_key="f1", payload={}, max_attempts=2, issue_id="iss_f")
        rt.work.wake()
        await eventually(lambda: rt.work.get("f1"), timeout=5)
        await eventually(lambda: _status(rt, "f1", "failed"), timeout=20)
        assert attempts == [1, 2]
        records = await read_topic(
            kafka_bootstrap, topics.name(TopicName.ACTIONS), until=lambda r: any(b"flaky.failed" in (x.value or b"") for x in r)
        )
        actions = [e for e in decode(records) if isinstance(e, ActionRecorded)]
        assert [a.action for a in actions] == ["flaky.failed"], "events of failed attempts are dropped"
        assert actions[0].issue_id == "iss_f"
    finally:
        await rt.stop()


async def _status(rt: ServiceRuntime, key: str, status: str) -> bool:
    row = await rt.work.get(key)
    return row is not None and row["status"] == status


async def test_retry_later_does_not_count_as_a_failure(service_settings: Callable[..., ServiceSettings]) -> None:
    rt = ServiceRuntime(service_settings("worker"))
    seen: list[int] = []

    @rt.worker("waiting")
    async def waiting(item: WorkItem, ctx: WorkContext) -> None:
        seen.append(item.attempts)
        if len(seen) < 3:
            raise RetryLater(0.05, "deploy not ready yet")

    await rt.start()
    try:
        async with rt.store.transaction() as conn:
            await rt.work.enqueue(conn, kind="waiting", dedup_key="w", payload={}, max_attempts=1)
        await eventually(lambda: _status(rt, "w", "done"), timeout=10)
        assert seen == [1, 1, 1]
    finally:
        await rt.stop()


async def test_workers_claim_nothing_while_paused_and_resume_after(service_settings: Callable[..., ServiceSettings]) -> None:
    rt = ServiceRuntime(service_settings("worker"))
    done: list[str] = []

    @rt.worker("job")
    async def job(item: WorkItem, ctx: WorkContext) -> None:
        done.append(item.dedup_key)

    await rt.start()
    try:
        await publish_command(rt, CommandName.PAUSE, paused=True, reason="maintenance")
        await eventually(lambda: rt.paused)
        async with rt.store.transaction() as conn:
            await rt.work.enqueue(conn, kind="job", dedup_key="j1", payload={})
        await asyncio.sleep(1.0)
        assert done == []
        await publish_command(rt, CommandName.RESUME, paused=False)
        await eventually(lambda: done == ["j1"])
    finally:
        await rt.stop()
