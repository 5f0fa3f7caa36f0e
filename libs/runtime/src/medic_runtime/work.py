"""Durable, prioritised work: record, acknowledge, resume.

Long work (LLM calls, test runs, 10–30 minute rollout watches) never holds a Kafka message. A
handler enqueues a :class:`WorkItem` in the service's store in the same transaction that marks the
event processed; the message is acknowledged at once. Workers claim items highest priority first
(severity rank: P0 before P3), renew a lease while they run, and finish them in one transaction
together with the events they emit. A crash leaves the item ``running`` with a lease that
expires; at start-up (or when the lease lapses) it is claimed again and the domain code resumes
from its own state. While the service is paused, workers claim nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ActionStatus, Producer, TopicRegistry

from .aio import wait_event
from .control import ControlPlane, SideEffectRefused
from .observability import Metrics, extract_context, inject_headers
from .store import ServiceStore, work_items
from .work_context import RetryLater, WorkContext, WorkFn, WorkItem

__all__ = ["RetryLater", "WorkContext", "WorkItem", "WorkQueue", "Worker"]

log = logging.getLogger("medic.work")
tracer = trace.get_tracer("medic.work")


@dataclass(slots=True)
class Worker:
    """Runs one kind of work with a given concurrency."""

    kind: str
    fn: WorkFn
    concurrency: int = 1
    lease_s: float = 60.0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class WorkQueue:
    """The work_items table and the workers that drain it."""

    def __init__(
        self,
        store: ServiceStore,
        *,
        metrics: Metrics,
        owner: str,
        topics: TopicRegistry,
        producer: Producer,
        control: ControlPlane,
        relay_notify: Callable[[], None],
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.owner = owner
        self.topics = topics
        self.producer = producer
        self.control = control
        self.notify_relay = relay_notify
        self.workers: dict[str, Worker] = {}
        self._wake = asyncio.Event()
        self._running = False

    # ---- producing work ------------------------------------------------------------------------

    async def enqueue(
        self,
        conn: AsyncConnection,
        *,
        kind: str,
        dedup_key: str,
        payload: dict[str, Any],
        priority: int = 5,
        issue_id: str | None = None,
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
        max_attempts: int = 5,
        refresh_queued: bool = False,
    ) -> bool:
        """Add an item in the caller's transaction; False when ``dedup_key`` was already queued.

        With ``refresh_queued``, an item with that key still waiting to run takes the new payload and
        headers and the more urgent of the two priorities: a severity that rose moves its work forward.
        """
        now = time.time()
        row = {
            "kind": kind,
            "dedup_key": dedup_key,
            "issue_id": issue_id,
            "priority": priority,
            "status": "queued",
            "payload": json.dumps(payload, default=str),
            "headers": json.dumps(inject_headers(headers)),
            "attempts": 0,
            "max_attempts": max_attempts,
            "not_before": now + delay_s,
            "lease_owner": None,
            "lease_until": None,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        }
        result = await conn.execute(self.store.insert_ignore(work_items, ["dedup_key"]).values(**row))
        inserted = bool(result.rowcount)
        if not inserted and refresh_queued:
            await conn.execute(
                update(work_items)
                .where(work_items.c.dedup_key == dedup_key, work_items.c.status == "queued")
                .values(
                    payload=row["payload"],
                    headers=row["headers"],
                    updated_at=now,
                    priority=case((work_items.c.priority > priority, priority), else_=work_items.c.priority),
                )
            )
        if inserted:
            self._wake.set()
        return inserted

    def wake(self) -> None:
        """Tell idle workers there may be work."""
        self._wake.set()

    # ---- claiming ------------------------------------------------------------------------------

    async def claim(self, kind: str, lease_s: float) -> WorkItem | None:
        """Take the most urgent due item of ``kind`` (lowest priority number, then oldest)."""
        now = time.time()
        async with self.store.transaction() as conn:
            due = and_(
                work_items.c.kind == kind,
                or_(
                    and_(work_items.c.status == "queued", work_items.c.not_before <= now),
                    and_(work_items.c.status == "running", work_items.c.lease_until < now),
                ),
            )
            pick = select(work_items.c.id).where(due).order_by(work_items.c.priority, work_items.c.id).limit(1)
            if self.store.dialect == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            row_id = (await conn.execute(pick)).scalar_one_or_none()
            if row_id is None:
                return None
            # Re-check `due` in the UPDATE: on SQLite two workers can pick the same id before either writes.
            row = (
                await conn.execute(
                    update(work_items)
                    .where(work_items.c.id == row_id, due)
                    .values(
                        status="running",
                        lease_owner=self.owner,
                        lease_until=now + lease_s,
                        attempts=work_items.c.attempts + 1,
                        updated_at=now,
                    )
                    .returning(*work_items.c)
                )
            ).one_or_none()
            if row is None:
                return None  # another worker claimed it first
        return WorkItem(
            id=row.id,
            kind=row.kind,
            dedup_key=row.dedup_key,
            issue_id=row.issue_id,
            priority=row.priority,
            payload=json.loads(row.payload),
            headers=json.loads(row.headers),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            created_at=row.created_at,
        )

    async def recover(self) -> int:
        """At start-up: items left running by a dead process become claimable again."""
        async with self.store.transaction() as conn:
            cond = work_items.c.status == "running"
            if self.store.dialect != "sqlite":
                # Shared store: only our own previous leases, or lapsed ones.
                cond = and_(cond, or_(work_items.c.lease_owner == self.owner, work_items.c.lease_until < time.time()))
            result = await conn.execute(
                update(work_items).where(cond).values(status="queued", lease_owner=None, lease_until=None, not_before=0)
            )
            return int(result.rowcount or 0)

    async def counts(self) -> dict[str, int]:
        """How many items are in each status."""
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(select(work_items.c.status, func.count()).group_by(work_items.c.status))
            return {status: int(n) for status, n in rows}

    async def get(self, dedup_key: str) -> dict[str, Any] | None:
        """The row of an item by its dedup key (for tests and status pages)."""
        async with self.store.engine.connect() as conn:
            row = (await conn.execute(select(work_items).where(work_items.c.dedup_key == dedup_key))).first()
            return dict(row._mapping) if row else None

    # ---- finishing -----------------------------------------------------------------------------

    async def _finish(
        self,
        item: WorkItem,
        ctx: WorkContext,
        *,
        status: str,
        error: str | None = None,
        retry_in: float | None = None,
        count_attempt: bool = True,
    ) -> None:
        now = time.time()
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "updated_at": now, "last_error": error}
        if retry_in is not None:
            values.update(status="queued", not_before=now + retry_in)
            if not count_attempt:
                values["attempts"] = work_items.c.attempts - 1
        else:
            values["status"] = status
        async with self.store.transaction() as conn:
            await conn.execute(
                update(work_items).where(work_items.c.id == item.id, work_items.c.lease_owner == self.owner).values(**values)
            )
            await ctx.flush(conn)
        self.notify_relay()

    # ---- running -------------------------------------------------------------------------------

    def register(self, worker: Worker) -> None:
        """Add a worker for one kind of item."""
        self.workers[worker.kind] = worker

    async def start(self) -> None:
        """Recover orphaned items and start every worker."""
        recovered = await self.recover()
        if recovered:
            log.info("recovered %d work item(s) left running", recovered)
        self._running = True
        for worker in self.workers.values():
            for n in range(worker.concurrency):
                worker.tasks.append(asyncio.create_task(self._loop(worker), name=f"worker-{worker.kind}-{n}"))

    async def stop(self) -> None:
        """Stop the workers; items they held are recovered at the next start."""
        self._running = False
        self._wake.set()
        for worker in self.workers.values():
            for task in worker.tasks:
                task.cancel()
            for task in worker.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            worker.tasks.clear()

    async def _loop(self, worker: Worker) -> None:
        while self._running:
            if self.control.paused:
                await self.control.wait_until_running(timeout=1.0)
                continue
            self._wake.clear()  # before looking, so an enqueue that lands meanwhile is not lost
            try:
                item = await self.claim(worker.kind, worker.lease_s)
            except Exception:
                log.warning("claim failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            if item is None:
                await wait_event(self._wake, 0.5)
                continue
            await self._run(worker, item)

    async def _run(self, worker: Worker, item: WorkItem) -> None:
        ctx = WorkContext(item, queue=self, topics=self.topics, producer=self.producer, control=self.control)
        renew = asyncio.create_task(self._renew(item, worker.lease_s))
        outcome = "done"
        try:
            with tracer.start_as_current_span(
                f"work {item.kind}",
                context=extract_context(item.headers),
                attributes={
                    "medic.work.kind": item.kind,
                    "medic.issue_id": item.issue_id or "",
                    "medic.work.attempt": item.attempts,
                },
            ):
                await worker.fn(item, ctx)
            await self._finish(item, ctx, status="done")
        except SideEffectRefused as exc:
            outcome = "refused"
            log.info("work %s %s paused: %s", item.kind, item.dedup_key, exc)
            await self._finish(item, ctx, status="queued", error=str(exc), retry_in=1.0, count_attempt=False)
        except RetryLater as exc:
            outcome = "later"
            await self._finish(item, ctx, status="queued", error=exc.reason or None, retry_in=exc.delay_s, count_attempt=False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outcome = "error"
            log.exception("work %s %s failed (attempt %d/%d)", item.kind, item.dedup_key, item.attempts, item.max_attempts)
            ctx.pending.clear()  # events of a failed attempt are not published
            if item.attempts >= item.max_attempts:
                outcome = "failed"
                ctx.record(
                    f"{item.kind}.failed",
                    ActionStatus.FAILED,
                    f"{item.kind} failed after {item.attempts} attempt(s): {exc}"[:2000],
                    issue_id=item.issue_id,
                    details={"error_type": type(exc).__name__, "attempts": item.attempts},
                )
                await self._finish(item, ctx, status="failed", error=repr(exc)[:2000])
            else:
                await self._finish(item, ctx, status="queued", error=repr(exc)[:2000], retry_in=min(2**item.attempts, 300))
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            self.metrics.work_done.labels(self.metrics.service, item.kind, outcome).inc()

    async def _renew(self, item: WorkItem, lease_s: float) -> None:
        while True:
            await asyncio.sleep(lease_s / 3)
            async with self.store.transaction() as conn:
                await conn.execute(
                    update(work_items)
                    .where(work_items.c.id == item.id, work_items.c.lease_owner == self.owner)
                    .values(lease_until=time.time() + lease_s)
                )
