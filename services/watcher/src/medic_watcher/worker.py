"""The watcher at work: poll sources, feed pushes, detect, store and publish in one transaction.

The only emitter of the watcher: IssueDetected events and every audit record leave from here.
Detection itself is :mod:`.job.detect` (the same functions tests and benchmarks call); frames
are resolved against the checkout by :class:`.adapters.repo.FrameResolver`.

Per target, each source runs in its own loop (its interval; exponential backoff on failure, with
an ActionRecorded per failure; its health in ``GET /sources`` and ``/metrics``, never in
``/readyz``). With several replicas on one store, only the holder of a source's poll lease polls it
(:mod:`.polling`). A poll's events are grouped, folded into the stored issue states, judged against
anomaly baselines, and written together with the source's new cursor and the IssueDetected events
in one store transaction, so a restart neither misses nor repeats anything. Push endpoints (SDK
ingest, webhooks, drains) feed a bounded backlog (:mod:`.pushqueue`) drained through the same
pipeline.

Parsing, normalising and grouping are CPU work: they run on one worker thread (and big log
batches are normalised in worker processes; see :mod:`.offload`), never on the event loop, so
health checks, pushes and the broker keep being served during a flood. One thread, so the
template miner and the baselines are only ever touched by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    IssueDetected,
    MedicConfig,
    load_target,
    section,
    utcnow,
)
from medic_runtime import HandlerContext, ServiceRuntime, Transaction
from medic_runtime.aio import bounded

from .adapters.repo import FrameResolver
from .adapters.sources.base import PollResult, SourceError
from .adapters.sources.registry import build_sources
from .adapters.store import IssueStore
from .config import SourcesSection
from .domain.anomaly import AnomalyState, Baselines
from .domain.normalize import Normaliser, route_sample
from .domain.observed import ObservedEvent
from .domain.templates import TemplateMiner
from .domain.tracker import mark_fixed
from .health import SourceHealth, WatcherMetrics, sources_status
from .job.detect import DEDUPED_SOURCES, Grouped, decide, issue_keys, occurrences_of
from .offload import Offload
from .polling import LeaseLost, PollLeases
from .pushqueue import PushQueue
from .settings import WatcherSettings
from .targets import TargetWatch

__all__ = ["TargetWatch", "Watcher"]

log = logging.getLogger("medic.watcher")
MAX_SAVED_TEMPLATES = 5_000
T = TypeVar("T")


class Watcher:
    """The watcher's state and pipeline, bound to a runtime."""

    def __init__(
        self, rt: ServiceRuntime, settings: WatcherSettings, targets: list[TargetWatch], *, cpu: Offload | None = None
    ) -> None:
        self.rt = rt
        self.settings = settings
        self.targets = {t.target.name: t for t in targets}
        self.issues = IssueStore(rt.store)
        self.baselines = Baselines()
        self.metrics = WatcherMetrics(rt.metrics.registry, rt.service)
        self.cpu = cpu or Offload(processes=settings.normalise_processes)
        self.pushes = PushQueue(
            self._ingest_pushed,
            capacity=settings.push_backlog_events,
            max_requests=settings.push_max_requests,
            batch_events=settings.push_batch_events,
        )
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._poll_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.polls = PollLeases(rt.store, holder=settings.instance_id, ttl_s=settings.poll_lease_ttl_s)
        for watch in targets:
            for config in watch.section.sources:
                push = config.name not in watch.sources
                watch.health.setdefault(config.name, SourceHealth(kind=config.kind, push=push))

    @classmethod
    def from_settings(cls, rt: ServiceRuntime, settings: WatcherSettings) -> Watcher:
        """Load every target file named by MEDIC_TARGETS (a bad file or section stops start-up, naming the field)."""
        watches = []
        cpu = Offload(processes=settings.normalise_processes)
        for path in settings.target_paths():
            target = load_target(path)
            sources = section(SourcesSection, {"sources": list(target.sources)}, name="sources")
            normaliser = Normaliser(redactor=rt.redactor)
            watches.append(
                TargetWatch(
                    target=target,
                    section=sources,
                    sources=build_sources(target, sources, normaliser, offload=cpu),
                    normaliser=normaliser,
                    resolver=FrameResolver(target),
                )
            )
        return cls(rt, settings, watches, cpu=cpu)

    def config(self) -> MedicConfig:
        """The control plane's configuration; defaults for severity only until one is known."""
        return self.rt.config() or MedicConfig()

    # ---- the pipeline ----------------------------------------------------------------------

    async def offload(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run CPU work (parsing, normalising, grouping) on the watcher's worker thread, off the event loop."""
        return await self.cpu.run(fn, *args, **kwargs)

    async def _miner(self, watch: TargetWatch, tx: Transaction) -> TemplateMiner:
        # Another replica may have learned templates since: its saved version is newer than ours, so restore it
        # (one replica's line and another's must get the same template, or one fault makes two issues).
        version = await self.rt.store.kv_get(f"watcher:templates_version:{watch.target.name}", tx.conn)
        version = version if isinstance(version, int) else 0
        if watch.miner is None or version != watch.miner_version:
            saved = await self.rt.store.kv_get(f"watcher:templates:{watch.target.name}", tx.conn)
            watch.miner = await self.offload(TemplateMiner.restore, saved if isinstance(saved, list) else [])
            watch.miner_version = version
        return watch.miner

    def _occurrences(
        self,
        watch: TargetWatch,
        events: list[ObservedEvent],
        *,
        fresh: set[str],
        raw_anomaly: Any,
        result: PollResult,
        now: datetime,
        source: str | None,
    ) -> tuple[Grouped, dict[str, Any]]:
        """The batch's occurrences and the anomaly state after it (worker thread: the miner and baselines live there)."""
        assert watch.miner is not None
        bucket_s = self.settings.anomaly_bucket_s
        anomaly = AnomalyState.model_validate(raw_anomaly) if isinstance(raw_anomaly, dict) else AnomalyState(bucket_s=bucket_s)
        if anomaly.bucket_s != bucket_s:  # the bucket length changed: what was learnt is in other units
            anomaly = AnomalyState(bucket_s=bucket_s)
        grouped = occurrences_of(
            events,
            miner=watch.miner,
            now=now,
            fresh=fresh,
            anomaly=anomaly,
            samples=result.samples,
            metrics=result.metrics,
            baselines=self.baselines,
            source=source,
        )
        return grouped, anomaly.model_dump(mode="json")

    async def ingest(
        self,
        watch: TargetWatch,
        result: PollResult,
        *,
        source: str,
        now: datetime,
        save_cursor: bool = True,
        lease: str | None = None,
    ) -> list[IssueDetected]:
        """Detect, store and publish one batch from one source (with its cursor) in one transaction.

        ``lease`` names the poll lease the batch was read under: the batch commits only while it holds.
        """
        target = watch.target.name
        async with watch.lock, self.rt.transaction() as tx:
            # Write first: on SQLite a transaction that read before writing cannot wait for the lock, it fails.
            # One row per target: on PostgreSQL its row lock queues the target's batches from every replica, so
            # each reads the issue states the one before committed and an issue is published once.
            await self.rt.store.kv_set(f"watcher:ingest:{target}", {"source": source, "at": now.isoformat()}, tx.conn)
            if lease is not None:
                await self.polls.fence(tx.conn, lease)
            miner = await self._miner(watch, tx)
            learned_before = len(miner)
            events = await self.offload(lambda: [watch.resolver.event(e) for e in result.events])
            ids = [e.source_event_id for e in events if e.source_event_id and e.source in DEDUPED_SOURCES]
            fresh = await self.issues.unseen(tx.conn, target, [i for i in ids if i])
            anomaly_key = f"watcher:anomaly:{target}"
            raw_anomaly = await self.rt.store.kv_get(anomaly_key, tx.conn)
            grouped, anomaly = await self.offload(
                self._occurrences,
                watch,
                events,
                fresh=fresh,
                raw_anomaly=raw_anomaly,
                result=result,
                now=now,
                source=source if save_cursor else None,  # a push is read as it happens: no watermark
            )
            await self.rt.store.kv_set(anomaly_key, anomaly, tx.conn)
            states = await self.issues.load(tx.conn, issue_keys(target, grouped))
            config = self.config()
            changed, published = await self.offload(
                decide, grouped, target=target, states=states, config=config, producer=self.rt.producer, now=now
            )
            for event in published:
                tx.emit(event)
                tx.record(
                    "watcher.issue_detected",
                    ActionStatus.SUCCEEDED,
                    f"{event.severity.value} {event.reason.value}: {event.title}"[:2000],
                    issue_id=event.issue_id,
                    caused_by=event,
                )
            await self.issues.save(tx.conn, changed)
            if len(miner) != learned_before and learned_before < MAX_SAVED_TEMPLATES:
                exported = await self.offload(lambda: miner.export()[:MAX_SAVED_TEMPLATES])
                await self.rt.store.kv_set(f"watcher:templates:{target}", exported, tx.conn)
                watch.miner_version += 1
                await self.rt.store.kv_set(f"watcher:templates_version:{target}", watch.miner_version, tx.conn)
            if save_cursor:
                await self.rt.store.kv_set(f"watcher:cursor:{target}:{source}", result.cursor, tx.conn)
            if lease is not None:
                await self.rt.store.kv_set(PollLeases.polled_key(lease), now.timestamp(), tx.conn)
        return published

    async def poll_once(self, watch: TargetWatch, name: str, *, now: datetime | None = None) -> list[IssueDetected]:
        """Poll one source from its stored cursor and ingest what it returns."""
        return (await self._poll(watch, name, now=now))[0]

    async def _poll(
        self, watch: TargetWatch, name: str, *, now: datetime | None = None, lease: str | None = None
    ) -> tuple[list[IssueDetected], PollResult]:
        source = watch.sources[name]
        # One poll of a source at a time: a scan and the loop must not both read the same cursor.
        async with self._poll_locks.setdefault((watch.target.name, name), asyncio.Lock()):
            cursor = await self.rt.store.kv_get(f"watcher:cursor:{watch.target.name}:{name}")
            moment = now or utcnow()
            result = await source.poll(cursor, now=moment)
            return await self.ingest(watch, result, source=name, now=moment, lease=lease), result

    async def push(self, watch: TargetWatch, events: list[ObservedEvent], *, source: str) -> list[IssueDetected]:
        """Feed pushed events into the pipeline at once (no backlog); the poll cursor is untouched."""
        samples = await self.offload(lambda: [s for e in events if (s := route_sample(e)) is not None])
        result = PollResult(events=events, samples=samples)
        published = await self.ingest(watch, result, source=source, now=utcnow(), save_cursor=False)
        health = watch.health.get(source)
        if health is not None:
            if health.push:
                health.succeeded(at=utcnow(), events=len(events))
            else:
                health.events += len(events)  # a webhook working says nothing about the source's polling
            self.metrics.observe(watch.target.name, source, health, events=len(events))
        return published

    async def _ingest_pushed(self, target: str, source: str, events: list[ObservedEvent]) -> list[IssueDetected]:
        self.metrics.backlog.labels(self.rt.service).set(self.pushes.queued)
        try:
            return await self.push(self.targets[target], events, source=source)
        finally:
            self.metrics.backlog.labels(self.rt.service).set(max(0, self.pushes.queued - len(events)))

    # ---- deployments -----------------------------------------------------------------------

    async def on_deployment(self, event: DeploymentResult, ctx: HandlerContext) -> None:
        """A fix promoted (or verified) in production: a later occurrence of its fingerprint is a regression."""
        if event.stage is not DeploymentStage.PRODUCTION or event.outcome not in (
            DeploymentOutcome.PROMOTED,
            DeploymentOutcome.VERIFIED,
        ):
            return
        states = await self.issues.load(ctx.conn, [event.issue_id])
        state = states.get(event.issue_id)
        if state is None:
            ctx.record(
                "watcher.fix_remembered",
                ActionStatus.SKIPPED,
                f"no watcher issue {event.issue_id}: fix {event.commit_sha[:12]} not tracked",
                issue_id=event.issue_id,
                caused_by=event,
            )
            return
        mark_fixed(state, at=event.occurred_at, commit=event.commit_sha)
        await self.issues.save(ctx.conn, [state])
        ctx.record(
            "watcher.fix_remembered",
            ActionStatus.SUCCEEDED,
            f"watching fingerprint {state.fingerprint} for regressions after {event.commit_sha[:12]}",
            issue_id=event.issue_id,
            caused_by=event,
        )

    # ---- source loops ----------------------------------------------------------------------

    def scan_now(self) -> None:
        """Wake every source loop to poll at once (ControlCommand scan)."""
        self._wake.set()

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` or until a scan is asked for; True when woken by a scan."""
        try:
            await bounded(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            return False
        self._wake.clear()  # every loop waiting now was woken by set(); clearing wakes none of them again
        return True

    async def _run_source(self, watch: TargetWatch, name: str) -> None:
        source = watch.sources[name]
        health = watch.health.setdefault(name, SourceHealth(kind=source.kind))
        lease = self.polls.key(watch.target.name, name)
        scan = False
        while True:
            # Only the replica holding the source's lease polls it, when due or asked to scan.
            if not await self.polls.take(lease):
                health.polled_by = await self.polls.holder_of(lease)
                await asyncio.sleep(self.polls.check_s)
                continue
            health.polled_by = self.polls.holder
            wait = 0.0 if scan else await self.polls.due_in(lease, interval_s=source.interval_s)
            if wait > 0:
                scan = await self._sleep(min(wait, self.polls.check_s))
                continue
            scan = False
            try:
                _, result = await self._poll(watch, name, lease=lease)
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                log.info("source %s/%s: poll lease lost, another replica polls it now", watch.target.name, name)
                continue
            except (SourceError, OSError, ValueError) as exc:
                health.failed(f"{type(exc).__name__}: {exc}" if isinstance(exc, OSError) else str(exc), at=utcnow())
                self.metrics.observe(watch.target.name, name, health)
                delay = min(self.settings.backoff_max_s, min(source.interval_s, 5.0) * 2 ** min(health.failures, 10))
                log.warning("source %s/%s failed (%d in a row): %s", watch.target.name, name, health.failures, exc)
                await self.rt.emit(
                    self.rt.new(
                        ActionRecorded,
                        action="watcher.source_failed",
                        status=ActionStatus.FAILED,
                        summary=f"{source.kind} source {watch.target.name}/{name} failed ({health.failures} in a row): {exc}"[
                            :2000
                        ],
                        details={"target": watch.target.name, "source": name, "retry_in_s": round(delay, 1)},
                    )
                )
                scan = await self._sleep(delay)
                continue
            health.succeeded(at=utcnow(), events=len(result.events))
            self.metrics.observe(watch.target.name, name, health, events=len(result.events))
            # A full read (a file growing faster than one chunk per interval): read on at once,
            # one bounded chunk at a time, so catching up takes seconds and memory stays flat.
            scan = result.more
            await asyncio.sleep(0)

    async def start(self) -> None:
        """Start the push backlog's drainer and one loop per polled source."""
        self.pushes.start()
        self.polls.start()
        for watch in self.targets.values():
            for name in watch.sources:
                self._tasks.append(asyncio.create_task(self._run_source(watch, name), name=f"source:{watch.target.name}:{name}"))

    async def stop(self) -> None:
        """Stop the loops and close the clients."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.polls.stop()
        await self.pushes.stop()
        for watch in self.targets.values():
            for source in watch.sources.values():
                with contextlib.suppress(Exception):
                    await source.close()
        self.cpu.close()

    def status(self) -> dict[str, Any]:
        """Per-source health, for ``GET /sources``: each target's sources, and the push backlog."""
        return sources_status(self.targets, self.pushes)
