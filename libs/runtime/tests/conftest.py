"""Helpers for runtime tests: a raw consumer that reads what the runtime published."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from medic_contracts import Envelope, event_adapter
from medic_testing.runtime.topics import read_topic as shared_read_topic

#: The raw records (malformed messages and headers are what these tests look at).
read_topic = partial(shared_read_topic, decode=False)


def decode(records: list[Any]) -> list[Envelope]:
    return [event_adapter().validate_json(r.value) for r in records]


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
