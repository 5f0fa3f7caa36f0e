"""Cross-service test helpers."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from aiokafka import AIOKafkaProducer

from medic_contracts import Envelope
from medic_runtime.bus import encode_event
from medic_testing.runtime.topics import read_topic

#: Decoded events of a topic, from the beginning (20 s unless told).
read_events = partial(read_topic, timeout=20.0)


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
