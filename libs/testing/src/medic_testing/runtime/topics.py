"""Reading a topic from the beginning, as tests check what services published."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer

from medic_contracts import event_adapter

__all__ = ["read_topic"]


async def read_topic(
    bootstrap: str, topic: str, *, until: Callable[[list[Any]], bool], timeout: float = 15.0, decode: bool = True
) -> list[Any]:
    """Read ``topic`` from the beginning until ``until(items)`` holds or ``timeout`` passes.

    The items are the decoded events, or with ``decode=False`` the raw records (to look at
    malformed messages and headers).
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(items):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                if decode:
                    items.extend(event_adapter().validate_json(r.value) for r in records)
                else:
                    items.extend(records)
    finally:
        await consumer.stop()
    return items
