"""The broker watch: notices a broker that went away, came back, or came back without its state.

Every ``kafka_watch_interval_s`` it asks the broker for its topics (one metadata request on a
long-lived admin client). What it sees is judged by :func:`assess`, a pure function returning a
typed :class:`BrokerVerdict`. When the broker comes back after being unreachable, lost topics, or
answers with another cluster id, the watch re-declares the missing topics (with their partition
counts: a topic auto-created by a produce would get the broker's default) and calls its
``on_recovered`` hooks: the runtime replaces its producer and wakes the outbox relay there.
Consumers notice a recreated log themselves (a position beyond the log end).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from .aio import bounded
from .kafka_security import client_options
from .settings import ServiceSettings

__all__ = ["BrokerVerdict", "BrokerView", "BrokerWatch", "Verdict", "assess"]

log = logging.getLogger("medic.kafka")


@dataclass(frozen=True, slots=True)
class BrokerView:
    """What one probe saw: the cluster id (when known) and the topic names."""

    cluster_id: str | None
    topics: frozenset[str]


class Verdict(enum.StrEnum):
    """What a probe means for this process."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    CAME_BACK = "came_back"
    TOPICS_LOST = "topics_lost"
    CLUSTER_CHANGED = "cluster_changed"


@dataclass(frozen=True, slots=True)
class BrokerVerdict:
    """The verdict of a probe, with the topics to declare again."""

    code: Verdict
    missing: frozenset[str] = frozenset()

    @property
    def recovered(self) -> bool:
        """True when the broker is back but may have lost producer ids, offsets or groups."""
        return self.code in (Verdict.CAME_BACK, Verdict.TOPICS_LOST, Verdict.CLUSTER_CHANGED)


def assess(*, last: BrokerView | None, was_reachable: bool, now: BrokerView | None, wanted: frozenset[str]) -> BrokerVerdict:
    """Judge one probe against the previous one: is the broker there, and is it the one we knew?"""
    if now is None:
        return BrokerVerdict(Verdict.UNREACHABLE)
    missing = wanted - now.topics
    if last is not None and last.cluster_id and now.cluster_id and last.cluster_id != now.cluster_id:
        return BrokerVerdict(Verdict.CLUSTER_CHANGED, missing)
    if missing:
        return BrokerVerdict(Verdict.TOPICS_LOST, missing)
    if not was_reachable:
        return BrokerVerdict(Verdict.CAME_BACK)
    return BrokerVerdict(Verdict.OK)


class BrokerWatch:
    """Probes the broker in the background; re-declares lost topics and reports a recovered broker."""

    def __init__(self, settings: ServiceSettings, *, wanted: Callable[[], Mapping[str, int]]) -> None:
        self.settings = settings
        self.wanted = wanted
        self.reachable = True
        #: How many times the broker came back after an outage or without its state.
        self.recoveries = 0
        self.on_recovered: list[Callable[[BrokerVerdict], Awaitable[None]]] = []
        self._admin: AIOKafkaAdminClient | None = None
        self._last: BrokerView | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start probing in the background."""
        self._task = asyncio.create_task(self._run(), name="broker-watch")

    async def stop(self) -> None:
        """Stop probing and close the admin client."""
        if self._task:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5)  # bounded even if the probe is slow to cancel
            self._task = None
        await self._close_admin()

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("broker watch probe failed", exc_info=True)
            await asyncio.sleep(self.settings.kafka_watch_interval_s)

    async def check_once(self) -> BrokerVerdict:
        """Probe once, act on the verdict (declare topics, call the hooks), return it."""
        wanted = dict(self.wanted())
        view = await self._probe()
        verdict = assess(last=self._last, was_reachable=self.reachable, now=view, wanted=frozenset(wanted))
        if verdict.code is Verdict.UNREACHABLE:
            if self.reachable:
                log.warning("broker at %s unreachable", self.settings.kafka_bootstrap)
            self.reachable = False
            return verdict
        self.reachable = True
        self._last = view
        if verdict.missing:
            await self._declare({t: wanted[t] for t in verdict.missing})
        if verdict.recovered:
            self.recoveries += 1
            log.warning(
                "broker at %s recovered (%s); re-declared %d topic(s)",
                self.settings.kafka_bootstrap,
                verdict.code,
                len(verdict.missing),
            )
            for hook in self.on_recovered:
                try:
                    await hook(verdict)
                except Exception:
                    log.exception("broker recovery hook failed")
        return verdict

    async def _probe(self) -> BrokerView | None:
        timeout = max(1.0, min(5.0, self.settings.kafka_watch_interval_s * 4))
        try:
            if self._admin is None:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.settings.kafka_bootstrap,
                    client_id=f"medic-{self.settings.service_name}-{self.settings.instance_id}-watch",
                    request_timeout_ms=int(timeout * 1000),
                    **client_options(self.settings),
                )
                self._admin = admin
                await bounded(admin.start(), timeout)
            topics = await bounded(self._admin.list_topics(), timeout)
            cluster_id = self._last.cluster_id if self._last is not None and self.reachable else None
            if cluster_id is None:
                cluster = await bounded(self._admin.describe_cluster(), timeout)
                cluster_id = str(cluster.get("cluster_id") or "") or None
        except (TimeoutError, KafkaError, OSError):
            await self._close_admin()  # a fresh client re-bootstraps against whatever broker is there now
            return None
        return BrokerView(cluster_id, frozenset(topics))

    async def _declare(self, topics: Mapping[str, int]) -> None:
        if self._admin is None or not topics:
            return
        with contextlib.suppress(TopicAlreadyExistsError):  # another instance declared them first
            await self._admin.create_topics([NewTopic(name, parts, 1) for name, parts in topics.items()])

    async def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await bounded(admin.close(), 5)
