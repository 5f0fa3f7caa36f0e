"""Cross-service test helpers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from medic_contracts import Envelope, event_adapter
from medic_runtime.bus import encode_event


async def read_events(
    bootstrap: str, topic: str, *, until: Callable[[list[Envelope]], bool], timeout: float = 20.0
) -> list[Envelope]:
    """Read and decode ``topic`` from the beginning until ``until(events)`` holds (or time runs out)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    events: list[Envelope] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(events):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    events.append(event_adapter().validate_json(r.value))
    finally:
        await consumer.stop()
    return events


async def publish(bootstrap: str, topic: str, events: list[Envelope], *, headers: dict[str, str] | None = None) -> None:
    """Publish events as the runtime would (value, key, headers with trace context)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            value, key, hdrs = encode_event(event, extra_headers=headers)
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in hdrs.items()])
    finally:
        await producer.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)
