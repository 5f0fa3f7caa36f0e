"""The per-step fault matrix: each service alone on one stack, a fault injected at each step of its job, one issue per step.

A :class:`ServiceStack` is one real service process with what it needs (a repository, a target app, the
fake Messages API), fed its input event by the bench as the service before it would. For each of its
steps the bench sends a new issue, waits until that step is reached, injects the fault (kill -9 of the
service and a new process on the same store, or a restart of the memory-only broker with the topics
declared and the control state re-published, as ``medic dev up`` and control-api do), and waits for
the issue's output. The :class:`Collector` keeps every event seen across broker restarts, by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from medic_contracts import TopicName, event_adapter
from medic_testing.runtime.processes import ServiceProcess

from .model import FaultResult
from .stack import Bus, bus, stop_all

__all__ = ["Collector", "Fault", "ServiceStack", "run_stacks"]

STEP_TIMEOUT_S = 240.0


class Fault(StrEnum):
    KILL = "kill_9"
    BROKER = "broker_restart"


class Collector:
    """Every event on the case's topics, by event id, kept across broker restarts (the broker forgets them)."""

    def __init__(self, b: Bus) -> None:
        self.b = b
        self.events: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        names = [self.b.topic(t) for t in TopicName if t is not TopicName.DLQ]
        self._consumer = AIOKafkaConsumer(*names, bootstrap_servers=self.b.bootstrap, auto_offset_reset="earliest",
                                          enable_auto_commit=False, group_id=None, fetch_max_wait_ms=100)  # fmt: skip
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    with contextlib.suppress(ValueError):
                        event = event_adapter().validate_json(record.value)
                        self.events.setdefault(event.event_id, event)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            try:
                await self._consumer.stop()
            except asyncio.CancelledError:
                # aiokafka's fetcher close re-raises the cancellation of its own fetch task when that fetch was
                # backing off after a broker error (a restart): not ours, unless this task is being cancelled.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            except Exception:  # noqa: S110 - a consumer of a broker that went away may fail to stop; it is dropped
                pass
        self._task = self._consumer = None

    async def restart(self) -> None:
        """After a broker restart: read the new (empty) topics from their beginning."""
        await self.stop()
        await self.start()

    def of(self, kind: type[Any], issue_id: str | None = None) -> list[Any]:
        return [e for e in self.events.values() if isinstance(e, kind) and (issue_id is None or e.issue_id == issue_id)]


@dataclass
class ServiceStack:
    """One service on its own stack; subclasses say how to feed it, when a step is reached and when an issue is done."""

    b: Bus
    root: Path
    seen: Collector
    service: str = ""
    steps: tuple[str, ...] = ()
    proc: ServiceProcess | None = None
    env: dict[str, str] = field(default_factory=dict)
    restarts: int = 0
    dead: list[ServiceProcess] = field(default_factory=list)

    async def up(self) -> None:
        """Prepare what the service needs, start it, wait until it is ready."""
        raise NotImplementedError

    async def send(self, n: int, step: str) -> str:
        """Feed the input of a new issue (the n-th) and return its issue id."""
        raise NotImplementedError

    def reached(self, step: str, issue_id: str) -> bool:
        raise NotImplementedError

    def done(self, issue_id: str) -> bool:
        raise NotImplementedError

    async def after_fault(self, fault: Fault) -> None:
        """What the fault's injector does once the service or the broker is back (e.g. release a held push)."""

    async def control(self) -> None:
        """Put the control state back on the control topic (control-api re-publishes it after a broker restart)."""
        raise NotImplementedError

    def measure(self, result: FaultResult, issues: dict[str, str]) -> None:
        """Count lost issues, duplicated and unaudited side effects over ``issues`` (issue id → step)."""
        raise NotImplementedError

    async def down(self) -> None:
        await asyncio.to_thread(stop_all, *([self.proc] if self.proc else []), *self.dead)

    def spawn(self, script: str) -> ServiceProcess:
        self.restarts += 1
        name = f"{self.service}-{self.restarts}"
        return ServiceProcess.console_script(name, script, env={**self.env, "MEDIC_INSTANCE_ID": name}, log_dir=self.root)

    async def start(self, script: str) -> None:
        self.proc = self.spawn(script)
        self.proc.start()
        await asyncio.to_thread(self.proc.wait_healthy, 180.0)

    async def kill_and_restart(self, script: str) -> None:
        """kill -9 of the whole process group, then a new process on the same store."""
        assert self.proc is not None
        await asyncio.to_thread(self.proc.kill)
        self.dead.append(self.proc)
        await self.start(script)

    async def kill(self) -> None:
        raise NotImplementedError


Maker = Callable[[Bus, Path, Collector], ServiceStack]


async def _poll(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return True
        await asyncio.sleep(0.05)
    return False


PAUSE_BOUND_S = 1.0  # issue 17: a pause after a broker restart reaches every agent within 1 s


async def _pause_reach(stack: ServiceStack) -> float | None:
    """Seconds from a pause on the control topic to the service reporting itself paused; None past 5 s."""
    proc = stack.proc
    if proc is None:
        return None
    await asyncio.to_thread(stack.b.pause, "bench: after the broker restarts")
    sent = time.monotonic()
    if not await _poll(lambda: proc.health().get("paused") is True, 5.0):
        return None
    return round(time.monotonic() - sent, 2)


async def _inject(stack: ServiceStack, fault: Fault) -> None:
    if fault is Fault.KILL:
        await stack.kill()
    else:
        await asyncio.to_thread(stack.b.restart, down_s=1.0)
        await stack.seen.restart()
        await stack.control()
    await stack.after_fault(fault)


async def run_stack(stack: ServiceStack, fault: Fault, result: FaultResult, *, only: tuple[str, ...] = ()) -> None:
    """Every step of ``stack`` (or ``only`` these) with ``fault`` injected once the step is reached."""
    issues: dict[str, str] = {}
    await stack.up()
    try:
        for n, step in enumerate(s for s in stack.steps if not only or s in only):
            label = f"{stack.service}@{step}"
            issue = await stack.send(n, step)
            issues[issue] = step
            if not await _poll(lambda: stack.reached(step, issue), STEP_TIMEOUT_S):  # noqa: B023 - awaited here
                result.checks[f"{label}: step reached"] = False
                continue
            injected = time.monotonic()
            await _inject(stack, fault)
            finished = await _poll(lambda: stack.done(issue), STEP_TIMEOUT_S)  # noqa: B023 - awaited here
            recovery = round(time.monotonic() - injected, 2) if finished else None
            result.observed.setdefault("recovery_s", {})[label] = recovery
            result.checks[f"{label}: the issue completed after the fault"] = finished
        if fault is Fault.BROKER:
            reached = await _pause_reach(stack)
            result.observed.setdefault("pause_reached_s", {})[stack.service] = reached
            result.checks[f"{stack.service}: a pause after the restarts reached it within 1 s"] = (
                reached is not None and reached <= PAUSE_BOUND_S
            )
        await asyncio.sleep(3.0)  # a late duplicate shows up here
        scratch = FaultResult(name=stack.service, fault="", expected="")
        stack.measure(scratch, issues)
        result.lost_issues += scratch.lost_issues
        for kind, n in scratch.duplicated_side_effects.items():
            result.duplicate(kind, n)
        result.unaudited_side_effects += scratch.unaudited_side_effects
        result.checks.update({f"{stack.service}: {k}": v for k, v in scratch.checks.items()})
        result.observed[stack.service] = scratch.observed
    finally:
        await stack.down()


async def _one_stack(
    make: Maker, b: Bus, service: str, root: Path, result: FaultResult, *, fault: Fault, only: tuple[str, ...]
) -> None:
    seen = Collector(b)
    await seen.start()
    try:
        (root / service).mkdir(parents=True, exist_ok=True)
        await run_stack(make(b, root / service, seen), fault, result, only=only)
    except Exception as exc:  # one service's broken setup is that service's failure, not the matrix's
        result.checks[f"{service}: stack ran"] = False
        result.observed.setdefault("errors", {})[service] = f"{type(exc).__name__}: {exc}"[-1500:]
    finally:
        await seen.stop()


def run_stacks(root: Path, result: FaultResult, fault: Fault, makers: dict[str, Maker], *, only: tuple[str, ...] = ()) -> None:
    """One stack per service, one after the other, each on its own broker; recovery_s is the slowest step's."""
    for service, make in makers.items():
        with bus() as b:  # its own broker: a service must not find the previous stack's events on its input topic
            asyncio.run(_one_stack(make, b, service, root, result, fault=fault, only=only))
    recoveries = [r for r in result.observed.get("recovery_s", {}).values() if r is not None]
    result.recovery_s = max(recoveries) if recoveries else None
