"""Pushed events waiting for the pipeline: a bounded backlog drained in coalesced batches.

Every push endpoint (SDK ingest, webhooks, drains) takes a *slot* before it reads its body and
hands its normalised events to the queue; one drainer task runs them through the pipeline, many
requests' events at a time, so a flood of small requests costs a few store transactions instead
of one each. When the backlog is full a new request is refused at once (the endpoint answers 429
with ``Retry-After``), so memory stays bounded by the capacity, not by the sender's rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from medic_contracts import IssueDetected

from .domain.admission import Admission, admit_backlog
from .domain.observed import ObservedEvent

__all__ = ["Backpressure", "PushQueue", "PushSlot"]

log = logging.getLogger("medic.watcher.push")

IngestFn = Callable[[str, str, list[ObservedEvent]], Awaitable[list[IssueDetected]]]


class Backpressure(Exception):
    """The backlog cannot take this request now; ``admission`` says how long to wait."""

    def __init__(self, admission: Admission) -> None:
        super().__init__(admission.reason)
        self.admission = admission


@dataclass(slots=True)
class _Batch:
    target: str
    source: str
    events: list[ObservedEvent]
    done: asyncio.Future[list[IssueDetected]]


@dataclass(slots=True)
class PushSlot:
    """One admitted request's place in the backlog (it counts as one event until its events are known)."""

    queue: PushQueue
    weight: int = 1
    submitted: bool = field(default=False)

    async def submit(self, target: str, source: str, events: list[ObservedEvent], *, wait: bool = True) -> list[IssueDetected]:
        """Queue the request's events; with ``wait``, until they are detected, stored and their issues emitted.

        Returns what the batch holding these events published (pushes coalesced with them included);
        without ``wait``, nothing: the events are taken (held in memory, within the capacity) and the
        sender is answered at once, as Sentry's own ingest does.
        """
        if not events:
            return []
        self.queue._resize(self, len(events))
        self.submitted = True
        done = self.queue._enqueue(target, source, events)
        if not wait:
            done.add_done_callback(_consume)
            return []
        return await asyncio.shield(done)


def _consume(done: asyncio.Future[list[IssueDetected]]) -> None:
    # Nobody awaits an unwaited batch: take its outcome so a failure is not reported as "never retrieved"
    # (the drainer has logged it).
    if not done.cancelled():
        done.exception()


class PushQueue:
    """The watcher's backlog of pushed events, with capacity ``capacity`` events and ``max_requests`` open slots."""

    def __init__(self, ingest: IngestFn, *, capacity: int, max_requests: int, batch_events: int) -> None:
        self._ingest = ingest
        self.capacity = capacity
        self.max_requests = max_requests
        self.batch_events = batch_events
        self.queued = 0  # events admitted and not yet through the pipeline
        self.open = 0  # slots taken
        self.refused = 0
        self._pending: deque[_Batch] = deque()
        self._ready = asyncio.Event()
        self._drain_rate = 1000.0  # events/s, learned; only used to size Retry-After
        self._task: asyncio.Task[None] | None = None

    def admit(self, incoming: int = 1) -> Admission:
        """Whether a request carrying ``incoming`` events may be taken now."""
        if self.open >= self.max_requests:
            return admit_backlog(queued=self.capacity, incoming=1, capacity=self.capacity, drain_per_s=self._drain_rate)
        return admit_backlog(queued=self.queued, incoming=incoming, capacity=self.capacity, drain_per_s=self._drain_rate)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[PushSlot]:
        """A place for one request, or :class:`Backpressure` when the backlog is full."""
        admission = self.admit(1)
        if not admission.accepted:
            self.refused += 1
            raise Backpressure(admission)
        slot = PushSlot(self)
        self.queued += 1
        self.open += 1
        try:
            yield slot
        finally:
            self.open -= 1
            if not slot.submitted:
                self.queued -= slot.weight
            # submitted events leave the count when the drainer has run them

    def _resize(self, slot: PushSlot, events: int) -> None:
        self.queued += events - slot.weight
        slot.weight = events

    def _enqueue(self, target: str, source: str, events: list[ObservedEvent]) -> asyncio.Future[list[IssueDetected]]:
        done: asyncio.Future[list[IssueDetected]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Batch(target, source, events, done))
        self._ready.set()
        return done

    def _take(self) -> list[_Batch]:
        taken: list[_Batch] = []
        size = 0
        while self._pending and (not taken or size + len(self._pending[0].events) <= self.batch_events):
            batch = self._pending.popleft()
            taken.append(batch)
            size += len(batch.events)
        return taken

    async def _run_group(self, target: str, source: str, batches: list[_Batch]) -> None:
        events = [e for b in batches for e in b.events]
        started = time.monotonic()
        try:
            published = await self._ingest(target, source, events)
        except Exception as exc:
            log.exception("pushed batch of %d events for %s/%s failed", len(events), target, source)
            for b in batches:
                if not b.done.done():
                    b.done.set_exception(exc)
        else:
            for b in batches:
                if not b.done.done():
                    b.done.set_result(published)
        finally:
            self.queued -= len(events)
            elapsed = max(time.monotonic() - started, 1e-3)
            self._drain_rate = 0.7 * self._drain_rate + 0.3 * (len(events) / elapsed)

    async def run(self) -> None:
        """The drainer: take what is pending, group it by (target, source), run each group through the pipeline."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            while taken := self._take():
                groups: dict[tuple[str, str], list[_Batch]] = {}
                for batch in taken:
                    groups.setdefault((batch.target, batch.source), []).append(batch)
                for (target, source), batches in groups.items():
                    await self._run_group(target, source, batches)

    def start(self) -> None:
        """Start the drainer task."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="watcher-push-drainer")

    async def stop(self) -> None:
        """Stop the drainer; requests still waiting fail (their senders retry)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._pending:
            batch = self._pending.popleft()
            if not batch.done.done():
                batch.done.set_exception(RuntimeError("watcher stopping"))
