"""ServiceRuntime: everything a Medic service process is made of, wired once.

A service's ``app.py`` builds a runtime, registers its handlers, workers and HTTP routes, and
hands it to :func:`~medic_runtime.entrypoint.run_service`::

    def build(settings: WatcherSettings) -> ServiceRuntime:
        rt = ServiceRuntime(settings)
        rt.consume(TopicName.DEPLOYMENTS_RESULT, DeploymentResult)(handlers.on_deployment_result)
        rt.worker("poll", concurrency=1)(work.poll_sources)
        return rt

    def main() -> None:
        run_service(WatcherSettings, build)

The process serves ``/healthz``, ``/readyz``, ``/metrics`` and ``/logs`` (its recent lines, see
:mod:`.health`) next to the service's own routes, starts the store, the bus, the control plane and
the workers in the FastAPI lifespan, and shuts them down in reverse order on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    CommandName,
    ControlCommand,
    DeadLetter,
    Envelope,
    MedicConfig,
    Producer,
    TopicName,
    TopicRegistry,
)

from .broker_watch import BrokerVerdict, BrokerWatch
from .bus import BatchHandler, Bus, Emitter, HandlerContext
from .control import ControlPlane, SideEffectRefused
from .health import add_health_routes
from .http_errors import install_error_handlers
from .kafka_admin import declare_topics
from .kafka_security import client_options
from .observability import Metrics, keep_recent_logs
from .redaction import Redactor
from .settings import ServiceSettings
from .store import ServiceStore
from .work import Worker, WorkQueue
from .work_context import WorkFn

__all__ = ["ServiceRuntime", "Transaction"]

log = logging.getLogger("medic.service")

EventT = TypeVar("EventT", bound=Envelope)
HandlerFn = Callable[[Any, HandlerContext], Awaitable[None]]


class Transaction(Emitter):
    """A store transaction with an outbox: state changes and events commit together."""

    def __init__(self, conn: AsyncConnection, topics: TopicRegistry, producer: Producer) -> None:
        super().__init__(topics, producer)
        self.conn = conn


class ServiceRuntime:
    """The store, bus, control plane, work queue and HTTP endpoints of one service process."""

    def __init__(self, settings: ServiceSettings, *, extra_tables: tuple[MetaData, ...] = ()) -> None:
        self.settings = settings
        self.service = settings.service_name
        self.topics = TopicRegistry(settings.topic_prefix)
        self.producer = Producer(service=self.service, instance=settings.instance_id)
        self.metrics = Metrics(self.service)
        self.store = ServiceStore(settings.resolved_store_url(), service=self.service)
        self.bus = Bus(settings, store=self.store, metrics=self.metrics, topics=self.topics, producer=self.producer)
        self.control = ControlPlane(settings, store=self.store, metrics=self.metrics, topics=self.topics)
        #: Topics this service needs besides the registry's (name -> partitions), declared at start and after a broker loss.
        self.extra_topics: dict[str, int] = {}
        #: Events this service publishes (its AsyncAPI document's send operations): the runtime's own audit
        #: records and dead letters, plus what the service declares with :meth:`publishes`.
        self.published: list[type[Envelope]] = [ActionRecorded, DeadLetter]
        self.broker_watch = BrokerWatch(settings, wanted=self.topic_plan)
        self.broker_watch.on_recovered.append(self._broker_recovered)
        self.bus.relay.before_retry.append(self._declare_topics)
        self.work = WorkQueue(
            self.store,
            metrics=self.metrics,
            owner=settings.instance_id,
            topics=self.topics,
            producer=self.producer,
            control=self.control,
            relay_notify=self.bus.relay.notify,
        )
        self.bus.after_commit.append(self.work.wake)  # work enqueued by a handler is visible once committed
        self.redactor = Redactor()
        self.extra_tables: list[MetaData] = list(extra_tables)
        self.started_at = time.time()
        self.ready = False
        self._periodic: list[tuple[float, Callable[[], Awaitable[None]], str]] = []
        self._periodic_tasks: list[asyncio.Task[None]] = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        #: Named checks added to ``/readyz`` (see :meth:`readiness`).
        self.readiness_checks: dict[str, Callable[[], Awaitable[bool]]] = {}
        keep_recent_logs()  # /logs serves the latest lines however logging was configured
        self.http = FastAPI(title=f"medic-{self.service}", lifespan=self._lifespan, docs_url=None, redoc_url=None)
        install_error_handlers(self.http)  # one error shape in every service
        add_health_routes(self)

    # ---- registration --------------------------------------------------------------------------

    def consume(
        self, topic: TopicName | str, *accepts: type[EventT], group_id: str | None = None
    ) -> Callable[[HandlerFn], HandlerFn]:
        """Decorator: handle ``accepts`` events from ``topic`` with delivery guarantees."""
        name = self.topics.name(topic) if isinstance(topic, TopicName) else topic

        def register(fn: HandlerFn) -> HandlerFn:
            self.bus.subscribe(name, fn, accepts=accepts, group_id=group_id)
            return fn

        return register

    def consume_batch(
        self,
        topic: TopicName | str | Sequence[TopicName | str],
        *accepts: type[EventT],
        group_id: str | None = None,
        inbox: bool = True,
    ) -> Callable[[BatchHandler], BatchHandler]:
        """Decorator: like :meth:`consume`, but ``fn(events_with_deliveries, ctx)`` gets a delivery batch's new events at once.

        For handlers whose cost is per statement rather than per event (projections): one call per
        batch, in the batch's transaction. A failing batch is retried one event at a time (``fn``
        called with one event), then dead-lettered like any other. ``inbox=False`` for a handler that is
        idempotent on event ids by itself: the runtime then keeps no processed-events rows for it.
        Several topics make one consumer whose batches mix them.
        """
        names = [self.topics.name(t) if isinstance(t, TopicName) else t for t in ([topic] if isinstance(topic, str) else topic)]
        name: str | list[str] = names[0] if len(names) == 1 else names

        def register(fn: BatchHandler) -> BatchHandler:
            async def one(event: Any, ctx: HandlerContext) -> None:
                await fn([(event, ctx.delivery)], ctx)

            self.bus.subscribe(name, one, accepts=accepts, group_id=group_id, batch_handler=fn, inbox=inbox)
            return fn

        return register

    def worker(self, kind: str, *, concurrency: int = 1, lease_s: float = 60.0) -> Callable[[WorkFn], WorkFn]:
        """Decorator: run ``kind`` work items with ``fn(item, ctx)``."""

        def register(fn: WorkFn) -> WorkFn:
            self.work.register(Worker(kind=kind, fn=fn, concurrency=concurrency, lease_s=lease_s))
            return fn

        return register

    def on_command(
        self, command: CommandName
    ) -> Callable[[Callable[[ControlCommand], Awaitable[None]]], Callable[[ControlCommand], Awaitable[None]]]:
        """Decorator: react to a live control command (approve, reject, scan, rollback, ...)."""

        def register(fn: Callable[[ControlCommand], Awaitable[None]]) -> Callable[[ControlCommand], Awaitable[None]]:
            self.control.on(command, fn)
            return fn

        return register

    def every(self, seconds: float, *, name: str) -> Callable[[Callable[[], Awaitable[None]]], Callable[[], Awaitable[None]]]:
        """Decorator: call ``fn`` every ``seconds`` while the service runs (errors are logged)."""

        def register(fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
            self._periodic.append((seconds, fn, name))
            return fn

        return register

    def on_start(self, fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Decorator: run after the store and bus start, before workers."""
        self._on_start.append(fn)
        return fn

    def on_stop(self, fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Decorator: run first at shutdown."""
        self._on_stop.append(fn)
        return fn

    def publishes(self, *events: type[Envelope]) -> None:
        """Declare the events this service emits, for its AsyncAPI document (publishing itself needs no declaration)."""
        self.published.extend(e for e in events if e not in self.published)

    def declare_topic(self, name: str, partitions: int = 1) -> None:
        """Have ``name`` declared with ``partitions`` at start-up and again whenever the broker lost it."""
        self.extra_topics[name] = partitions

    def topic_plan(self) -> dict[str, int]:
        """Every topic this service declares: the registry's and its own (name -> partitions)."""
        return {**self.topics.partitions(), **self.extra_topics}

    def readiness(self, name: str, check: Callable[[], Awaitable[bool]]) -> None:
        """Add a named readiness check to ``/readyz``."""
        self.readiness_checks[name] = check

    # ---- what domain code uses -----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True while side effects must not happen."""
        return self.control.paused

    def config(self) -> MedicConfig | None:
        """The cached configuration, None when unknown or stale (fail closed)."""
        return self.control.config()

    def new(self, model: type[EventT], **fields: Any) -> EventT:
        """Build an event produced by this instance."""
        return model(producer=self.producer, **fields)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A store transaction whose emitted events are published after it commits."""
        async with self.store.transaction() as conn:
            tx = Transaction(conn, self.topics, self.producer)
            yield tx
            await tx.flush(conn)
        self.bus.relay.notify()
        self.work.wake()

    async def emit(self, *events: Envelope) -> None:
        """Publish events through the outbox (their own transaction)."""
        async with self.transaction() as tx:
            for event in events:
                tx.emit(event)

    async def guard(self, action: str, *, issue_id: str | None = None) -> None:
        """Refuse (and audit) a side effect while paused: raises :class:`SideEffectRefused`."""
        try:
            self.control.require_running(action)
        except SideEffectRefused as exc:
            async with self.transaction() as tx:
                tx.record(action, ActionStatus.REFUSED, f"{action} refused: {exc.reason}", issue_id=issue_id)
            raise

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start store, topics, control plane, bus, hooks, workers and periodic tasks."""
        await self.store.create_all(*self.extra_tables)
        await self._declare_topics()
        await self.control.start()
        await self.bus.start()
        self.broker_watch.start()
        for hook in self._on_start:
            await hook()
        await self.work.start()
        for seconds, fn, name in self._periodic:
            self._periodic_tasks.append(asyncio.create_task(self._every(seconds, fn, name), name=name))
        self.ready = True
        log.info("started", extra={"subscriptions": [s.topic for s in self.bus.subscriptions]})

    async def stop(self) -> None:
        """Stop in reverse order; safe to call twice."""
        self.ready = False
        for hook in self._on_stop:
            with contextlib.suppress(Exception):
                await hook()
        for task in self._periodic_tasks:
            task.cancel()
        for task in self._periodic_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._periodic_tasks.clear()
        await self.work.stop()
        await self.broker_watch.stop()
        if self.bus.started:
            await self.bus.stop()
        await self.control.stop()
        await self.store.close()
        log.info("stopped")

    async def _declare_topics(self) -> None:
        await declare_topics(self.settings.kafka_bootstrap, self.topic_plan(), options=client_options(self.settings))

    async def _broker_recovered(self, verdict: BrokerVerdict) -> None:
        # The broker may have forgotten this producer's id: a new producer now, not after a failed send.
        await self.bus.producer_client.recreate(f"broker {verdict.code}")
        self.bus.relay.notify()
        self.control.broker_recovered()

    def outbox_stalled(self, bound_s: float) -> bool:
        """True when the outbox has held undeliverable events for longer than ``bound_s`` seconds."""
        stalled = self.bus.relay.stalled_for()
        return stalled > 0 and stalled >= bound_s

    async def _every(self, seconds: float, fn: Callable[[], Awaitable[None]], name: str) -> None:
        while True:
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic task %s failed", name)
            await asyncio.sleep(seconds)

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()
