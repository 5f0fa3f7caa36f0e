"""The real pieces every fault case stands on: its own embedded broker, service processes, reading what they did.

Nothing here is a new harness: the broker is the test kit's :class:`RestartableBroker`, the services
run through :class:`ServiceProcess` with :func:`test_env`, and topics are read with :func:`read_topic`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from medic_contracts import CommandName, ControlCommand, MedicConfig, Producer, TopicName, TopicRegistry
from medic_testing.implementer import produce, set_config
from medic_testing.runtime.processes import ServiceProcess
from medic_testing.runtime.restartable import RestartableBroker
from medic_testing.runtime.topics import read_topic

__all__ = ["Bus", "bus", "read_all", "stop_all", "wait_until"]

OPERATOR = Producer(service="medic-bench", instance="faults")


class Bus:
    """One case's broker (restartable) and topic prefix, with every registry topic declared."""

    def __init__(self, broker: RestartableBroker, prefix: str) -> None:
        self.broker = broker
        self.prefix = prefix
        self.topics = TopicRegistry(prefix)

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def topic(self, name: TopicName) -> str:
        return self.topics.name(name)

    def restart(self, *, down_s: float = 1.0) -> None:
        """Stop the broker and start it empty on the same port with the topics declared (as ``medic dev up`` does)."""
        self.broker.restart(down_s=down_s, declare=self.topics.partitions())

    def publish(self, topic: TopicName, *events: Any) -> None:
        asyncio.run(produce(self.bootstrap, self.topic(topic), *events))

    def configure(self, config: MedicConfig, *, paused: bool = False) -> None:
        """The control state snapshot control-api would publish."""
        asyncio.run(set_config(self.bootstrap, self.prefix, config, paused=paused))

    def pause(self, reason: str) -> None:
        command = ControlCommand(producer=OPERATOR, command=CommandName.PAUSE, reason=reason, paused=True, actor="bench")
        self.publish(TopicName.CONTROL, command)

    def read(self, topic: TopicName, *, until: Callable[[list[Any]], bool] | None = None, timeout: float = 5.0) -> list[Any]:
        """Events on ``topic`` from the beginning: until ``until`` holds, or all that arrive within ``timeout``."""
        return asyncio.run(read_topic(self.bootstrap, self.topic(topic), until=until or (lambda _: False), timeout=timeout))


@contextlib.contextmanager
def bus() -> Iterator[Bus]:
    """A fresh embedded broker for one case (stopped afterwards)."""
    broker = RestartableBroker()
    prefix = f"f{uuid.uuid4().hex[:8]}."
    broker.start(TopicRegistry(prefix).partitions())
    try:
        yield Bus(broker, prefix)
    finally:
        broker.stop()


def read_all(b: Bus, *names: TopicName, settle_s: float = 3.0) -> dict[TopicName, list[Any]]:
    """Everything on ``names`` after a settle (a late duplicate shows up here)."""
    time.sleep(settle_s)
    return {name: b.read(name, timeout=4.0) for name in names}


def wait_until(check: Callable[[], Any], *, timeout: float, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy (returned) or ``timeout`` passes (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError):
            if result := check():
                return result
        time.sleep(interval)
    return None


def stop_all(*procs: ServiceProcess) -> None:
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.stop()
