"""Waiting for a service's consumers to settle in their groups before a test stops it.

A service whose subscriptions share a consumer group rebalances that group once per consumer as
they join, right after start-up. Stopped in the middle of such a rebalance, its members leave
while the embedded broker (Tansu) is still waiting for them to rejoin, and the next instance's
join then never completes. Real Kafka expires such members after the session timeout; tests that
stop a service and start another on the same group wait for :func:`wait_settled` first.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..service import ServiceRuntime

__all__ = ["wait_settled"]


async def wait_settled(runtime: ServiceRuntime, *, timeout: float = 60.0) -> None:
    """Return once every consumer of ``runtime`` holds partitions and none has a rebalance pending."""
    deadline = time.monotonic() + timeout
    while True:
        consumers = [getattr(sub.subscriber, "consumer", None) for sub in runtime.bus.subscriptions]
        if all(_settled(consumer) for consumer in consumers):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"consumers of {runtime.settings.service_name} did not settle in {timeout:.0f} s")
        await asyncio.sleep(0.1)


def _settled(consumer: Any) -> bool:
    if consumer is None or not consumer.assignment():
        return False
    coordinator = getattr(consumer, "_coordinator", None)
    state = getattr(consumer, "_subscription", None)
    if coordinator is None or state is None:
        return True  # not a group consumer (or aiokafka changed): the assignment is all there is to check
    return not coordinator.need_rejoin(state.subscription)
