"""The outbox relay: publishes outbox rows in order until the broker acknowledges them, then deletes them.

It survives a broker that comes back without its state: a send that fails because the broker lost
the producer (or that waits longer than ``outbox_ack_timeout_s``) recreates the producer and, before
the retry, re-declares the topics (a topic auto-created by a produce would get the wrong partition
count). Rows stay in the outbox until acknowledged, so nothing is lost on the way.

``stalled_for()`` says how long the outbox has had rows it could not deliver: the runtime turns it
into ``/readyz`` (not ready) and, past a bound, ``/healthz`` (not alive, so an orchestrator restarts
the process).

Instances of a service that share a PostgreSQL store (replicas) share its outbox: one relay at a time
publishes it (a transaction advisory lock per schema, freed however the flush ends), so a row is not sent
by two replicas at once and the rows keep their order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text, update

from .aio import bounded, wait_event
from .producer import needs_new_producer
from .store import outbox

if TYPE_CHECKING:
    from .bus import Bus

__all__ = ["OutboxRelay", "OutboxStalled"]

log = logging.getLogger("medic.bus")


class OutboxStalled(RuntimeError):
    """Some outbox rows were not acknowledged; ``recreate`` says whether the producer must be replaced."""

    def __init__(self, message: str, *, recreate: bool) -> None:
        super().__init__(message)
        self.recreate = recreate


class OutboxRelay:
    """Publishes outbox rows in order until the broker acknowledges them, then deletes them."""

    def __init__(self, bus: Bus, *, batch: int = 500, idle_s: float = 0.5) -> None:
        self.bus = bus
        self.batch = batch
        self.idle_s = idle_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.healthy = True
        #: When the outbox first held rows the relay could not deliver (None while it drains).
        self.stalled_since: float | None = None
        #: Called before a retry that follows a failure (the runtime re-declares its topics here).
        self.before_retry: list[Callable[[], Awaitable[None]]] = []

    def start(self) -> None:
        """Start relaying in the background."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    def notify(self) -> None:
        """Wake the relay: something was written to the outbox (or the broker came back)."""
        self._wake.set()

    def stalled_for(self, now: float | None = None) -> float:
        """Seconds the outbox has held rows it could not deliver (0 while it drains)."""
        if self.stalled_since is None:
            return 0.0
        return max(0.0, (now if now is not None else time.monotonic()) - self.stalled_since)

    async def stop(self) -> None:
        """Flush what can be flushed quickly, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await bounded(self._task, timeout=10)
            except TimeoutError:
                self._task.cancel()
                # asyncio.wait, not wait_for: it never waits past its bound for a task slow to cancel.
                await asyncio.wait({self._task}, timeout=5)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            # Cleared before looking, so a notify that lands while we flush is not lost.
            self._wake.clear()
            try:
                published = await self.flush_once()
                self.healthy = True
                self.stalled_since = None
                backoff = 0.1
            except Exception as exc:
                self.healthy = False
                if self.stalled_since is None:
                    self.stalled_since = time.monotonic()
                log.warning("outbox relay failed (%s); retrying in %.1fs", exc, backoff)
                if self._stopping:
                    return
                await self._recover(exc)
                # A notify (the broker is back, new rows) cuts the wait short.
                await wait_event(self._wake, backoff)
                backoff = min(backoff * 2, self.bus.settings.outbox_max_backoff_s)
                continue
            # A full batch may have more behind it; otherwise rows committed since the select have
            # notified (the wake below returns at once), so no second select per flush.
            if published >= self.batch or (published and self._stopping):
                continue
            if self._stopping:
                return
            await wait_event(self._wake, self.idle_s)

    async def _recover(self, exc: Exception) -> None:
        if (isinstance(exc, OutboxStalled) and exc.recreate) or needs_new_producer(exc):
            await self.bus.producer_client.recreate(str(exc)[:200])
        for hook in self.before_retry:
            try:
                await hook()
            except Exception as hook_error:  # the broker may still be down: the next round tries again
                log.debug("relay retry hook failed: %s", hook_error)

    async def flush_once(self) -> int:
        """Publish one batch of outbox rows; return how many were acknowledged."""
        store = self.bus.store
        if store.dialect != "postgresql":
            return await self._flush()  # a SQLite store has one process: nobody else relays it
        async with store.engine.begin() as guard:
            # Held until this transaction ends (however the flush ends); waits while another replica's relay
            # publishes the same outbox (one batch: bounded by the ack timeout).
            await guard.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"medic.outbox.{store.schema}"})
            return await self._flush()

    async def _flush(self) -> int:
        store = self.bus.store
        async with store.engine.connect() as conn:
            rows = (await conn.execute(select(outbox).order_by(outbox.c.id).limit(self.batch))).all()
            if len(rows) < self.batch:
                pending = len(rows)
            else:  # only count when there may be more than one batch waiting
                pending = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
        self.bus.metrics.outbox_pending.labels(self.bus.metrics.service).set(pending)
        if not rows:
            return 0
        if self.stalled_since is None:
            # Counted from the first attempt: a send that hangs (broker gone) shows as a stall too.
            self.stalled_since = time.monotonic()
        producer = self.bus.producer_client
        futures: list[asyncio.Future[Any]] = []

        async def queue_all() -> None:
            for row in rows:
                futures.append(await producer.send(row.topic, row.value, key=row.key, headers=json.loads(row.headers)))

        # One bound for the whole batch (not a task per row): queueing blocks while the broker is away.
        await bounded(queue_all(), timeout=self.bus.settings.outbox_ack_timeout_s)
        results = await self._acknowledgements(futures)
        ok = [row.id for row, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        failed = [(row.id, res) for row, res in zip(rows, results, strict=True) if isinstance(res, BaseException)]
        async with store.transaction() as conn:
            if ok:
                await conn.execute(delete(outbox).where(outbox.c.id.in_(ok)))
            for row_id, err in failed:
                await conn.execute(
                    update(outbox).where(outbox.c.id == row_id).values(attempts=outbox.c.attempts + 1, last_error=str(err)[:2000])
                )
        per_topic: dict[str, int] = {}
        for row, res in zip(rows, results, strict=True):
            if not isinstance(res, BaseException):
                per_topic[row.topic] = per_topic.get(row.topic, 0) + 1
        for topic, count in per_topic.items():  # one labels() lookup per topic, not per event
            self.bus.metrics.published.labels(self.bus.metrics.service, topic).inc(count)
        if failed:
            first = failed[0][1]
            raise OutboxStalled(
                f"{len(failed)} outbox event(s) not acknowledged: {first!r}",
                recreate=any(needs_new_producer(err) for _, err in failed),
            )
        return len(ok)

    async def _acknowledgements(self, futures: list[asyncio.Future[Any]]) -> list[Any]:
        """Each send's outcome; one still unanswered after ``outbox_ack_timeout_s`` counts as failed."""
        timeout = self.bus.settings.outbox_ack_timeout_s
        # An idempotent producer retries forever while the broker is away: bound the wait here.
        await asyncio.wait(futures, timeout=timeout)
        results: list[Any] = []
        for fut in futures:
            if fut.done() and not fut.cancelled():
                results.append(fut.exception() or fut.result())
            else:
                fut.cancel()
                results.append(TimeoutError(f"no acknowledgement within {timeout:.0f}s"))
        return results
