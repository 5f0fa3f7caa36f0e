"""Waiting for a service's consumers to settle in their groups before a test stops it.

A service whose subscriptions share a consumer group rebalances that group once per consumer as
they join, right after start-up. The hang that stopping a service in the middle of such a
rebalance used to cause (the next instance's join never completed) is explained and fixed in
:mod:`medic_runtime.kafka_compat`, fix 3: Tansu keeps a departed leader when the leader leaves a
re-forming group, and a follower refused at one generation under it now takes over its member id.
Tests that stop a service and start another on the same group still wait for :func:`wait_settled`
first, so each instance starts from a group that holds its partitions and has no rebalance pending.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from medic_runtime.service import ServiceRuntime

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
