"""The pause gate and the control plane every service instance follows.

Each instance reads ``medic.control`` with its own consumer group (``<prefix><service>.<instance>``),
by explicit assignment so there is no group join to wait for. At start-up it reads the recent
history up to the end of the log (pause/resume, config snapshots) before it acts; until then, and
whenever it holds no fresh configuration, policy fails closed. Commands are applied within a
fetch interval (100 ms), so a pause reaches every instance well within a second.

Domain code asks :meth:`ControlPlane.require_running` before any side effect (commit, push, merge,
deploy, notify); while paused it raises :class:`SideEffectRefused`, and the runtime records the
refusal in the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from medic_contracts import CommandName, ControlCommand, MedicConfig, TopicName, TopicRegistry, event_adapter

from .aio import bounded
from .kafka_security import client_options
from .observability import Metrics
from .settings import ServiceSettings
from .store import ServiceStore

__all__ = ["ControlPlane", "ControlSnapshot", "SideEffectRefused", "restarted_log"]

log = logging.getLogger("medic.control")

CommandHandler = Callable[[ControlCommand], Awaitable[None]]

#: How far back in medic.control an instance reads at start-up (control-api snapshots its state
#: periodically, so the latest snapshot is always within this window).
HISTORY = 5_000


def restarted_log(*, position: int, end: int) -> bool:
    """True when a reader's position lies beyond the log's end: the log it was reading no longer exists."""
    return position > end


class SideEffectRefused(RuntimeError):
    """A side effect was attempted while Medic is paused or deactivated."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(f"{action} refused: {reason}")
        self.action = action
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ControlSnapshot:
    """The pause state and configuration as this instance knows them."""

    paused: bool
    paused_reason: str
    config: MedicConfig | None
    config_received_at: float | None


class ControlPlane:
    """Follows medic.control: pause state, configuration, and commands for this service."""

    def __init__(self, settings: ServiceSettings, *, store: ServiceStore, metrics: Metrics, topics: TopicRegistry) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.topic = topics.name(TopicName.CONTROL)
        self.group_id = f"{settings.topic_prefix}{settings.service_name}.{settings.instance_id}"
        self._paused = False
        self._paused_reason = ""
        self._config: MedicConfig | None = None
        self._config_at: float | None = None
        self._handlers: dict[CommandName, list[CommandHandler]] = {}
        self._watchers: list[Callable[[ControlSnapshot], Awaitable[None]]] = []
        self.caught_up = asyncio.Event()
        self.changed = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_command_at: float | None = None
        #: How many times the control log was found recreated and re-read (health output, tests).
        self.log_restarts = 0
        #: Offset and event id of the last command read: after an outage, proof that the log is the same one.
        self._last_seen: tuple[int, str] | None = None
        self._verify_log = False

    # ---- what domain code reads ----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True while paused, deactivated (kill switch), or before the control state is known."""
        return self._paused or not self.caught_up.is_set() or (self._config is not None and not self._config.active)

    @property
    def pause_reason(self) -> str:
        """Why :attr:`paused` is true (empty when running)."""
        if not self.caught_up.is_set():
            return "control state not read yet"
        if self._paused:
            return self._paused_reason or "paused by an operator"
        if self._config is not None and not self._config.active:
            return "kill switch: Medic is deactivated"
        return ""

    def config(self, *, now: float | None = None) -> MedicConfig | None:
        """The cached configuration, or None when unknown or stale (callers fail closed)."""
        if self._config is None or self._config_at is None:
            return None
        if (now or time.time()) - self._config_at > self.settings.config_max_age_s:
            return None
        return self._config

    def snapshot(self) -> ControlSnapshot:
        """The current state, for health output and tests."""
        return ControlSnapshot(self.paused, self.pause_reason, self._config, self._config_at)

    def require_running(self, action: str) -> None:
        """Raise :class:`SideEffectRefused` when ``action`` may not happen now."""
        if self.paused:
            self.metrics.refused.labels(self.metrics.service, action).inc()
            raise SideEffectRefused(action, self.pause_reason)

    async def wait_until_running(self, timeout: float | None = None) -> bool:
        """Wait until not paused; True when running, False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.paused:
            self.changed.clear()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await bounded(self.changed.wait(), timeout=min(remaining or 1.0, 1.0))
            except TimeoutError:
                continue
        return True

    # ---- registration --------------------------------------------------------------------------

    def on(self, command: CommandName, handler: CommandHandler) -> None:
        """Call ``handler`` for each ``command`` (approve, reject, scan, rollback, ...) seen live."""
        self._handlers.setdefault(command, []).append(handler)

    def watch(self, fn: Callable[[ControlSnapshot], Awaitable[None]]) -> None:
        """Call ``fn`` after every change of pause state or configuration."""
        self._watchers.append(fn)

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the control history up to the end of the log, then follow it."""
        cached = await self.store.kv_get("control.state")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.group_id,
            client_id=f"medic-{self.settings.service_name}-{self.settings.instance_id}-control",
            enable_auto_commit=False,
            # An offset the broker no longer has (a recreated log) resets to the start: all of it is newer.
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
            request_timeout_ms=self.settings.kafka_request_timeout_ms,
            **client_options(self.settings),
        )
        await consumer.start()
        self._consumer = consumer
        tp = TopicPartition(self.topic, 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        begin = (await consumer.beginning_offsets([tp]))[tp]
        consumer.seek(tp, max(begin, end - HISTORY))
        seen_state = False
        deadline = time.monotonic() + self.settings.control_catch_up_timeout_s
        # Read to the end of the log: past the reported end offset (a lower bound on the embedded
        # broker, which under-reports it after multi-record batches) until a fetch comes back empty.
        while time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=100)
            for record in batch.get(tp, []):
                command = self._parse(record.value)
                if command is not None:
                    self._last_seen = (record.offset, command.event_id)
                    seen_state |= self._apply_state(command)
            if not batch and await consumer.position(tp) >= end:
                break
        if not seen_state:
            await self._bootstrap_state(cached)
        self.caught_up.set()
        await self._changed()
        self._task = asyncio.create_task(self._follow(consumer, tp), name="control-follow")
        log.info("control state read: paused=%s config=%s", self._paused, self._config.version if self._config else None)

    async def stop(self) -> None:
        """Stop following."""
        if self._task:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=10)
        if self._consumer:
            # Bounded: a consumer whose broker is gone can wait on its coordinator for a long time.
            stopping = asyncio.ensure_future(self._consumer.stop())
            done, _ = await asyncio.wait({stopping}, timeout=10)
            if not done:
                log.warning("control consumer did not stop within 10 s")

    async def _bootstrap_state(self, cached: Any) -> None:
        """No state on the bus (fresh broker): ask control-api, else use the last state we saw."""
        if self.settings.control_api_url:
            headers = {"Authorization": f"Bearer {self.settings.control_api_token}"} if self.settings.control_api_token else {}
            try:
                async with httpx.AsyncClient(base_url=self.settings.control_api_url, timeout=5.0, headers=headers) as client:
                    state = (await client.get("/api/v1/control/state")).raise_for_status().json()
                self._paused = bool(state.get("paused", False))
                self._paused_reason = str(state.get("reason", ""))
                if state.get("config") is not None:
                    self._set_config(state["config"])
                return
            except (httpx.HTTPError, ValueError, ValidationError) as exc:
                log.warning("control-api state unavailable at start-up: %s", exc)
        if isinstance(cached, dict):
            self._paused = bool(cached.get("paused", False))
            self._paused_reason = str(cached.get("reason", ""))
            # A cached config keeps its original age: stale copies still fail closed.
            if cached.get("config") is not None:
                with contextlib.suppress(ValidationError):
                    self._config = MedicConfig.model_validate(cached["config"])
                    self._config_at = float(cached.get("config_at") or 0)

    def broker_recovered(self) -> None:
        """The broker came back (or lost topics): check before the next read that the control log is the one we read."""
        self._verify_log = True

    async def _follow(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        while True:
            try:
                if self._verify_log:
                    await self._verify_same_log(consumer, tp)
                batch = await consumer.getmany(tp, timeout_ms=500)
                if not batch:
                    await self._check_log(consumer, tp)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("control topic read failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            await self._apply_records(batch.get(tp, []))

    async def _apply_records(self, records: Any) -> None:
        for record in records:
            command = self._parse(record.value)
            if command is None:
                continue
            self._last_seen = (record.offset, command.event_id)
            self.last_command_at = time.time()
            if self._apply_state(command):
                await self._changed()
            for handler in self._handlers.get(command.command, []):
                try:
                    await handler(command)
                except Exception:
                    log.exception("control handler for %s failed", command.command)

    async def _verify_same_log(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        """After a broker outage: is the last command we read still at its offset? If not, the log was recreated.

        Catches the case a position check misses: a recreated log that has already grown past
        our old position (its first records would otherwise be skipped).
        """
        self._verify_log = False
        if self._last_seen is None:
            return
        offset, event_id = self._last_seen
        position = await consumer.position(tp)
        consumer.seek(tp, offset)
        records = (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
        if not records:
            consumer.seek(tp, position)  # nothing there (yet): the position check decides on the next poll
            return
        first = records[0]
        command = self._parse(first.value)
        if first.offset == offset and command is not None and command.event_id == event_id:
            await self._apply_records(records[1:])  # the same log: go on after the last command seen
            return
        log.warning("control log replaced (offset %d holds another command): re-reading it from the start", offset)
        await self._reread(consumer, tp)

    async def _check_log(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        """Re-read from the start when the control log was recreated (a broker that restarted without its state).

        The sign is a position beyond the log's end: every command in the new log is newer than
        what this instance has seen, so it reads them all, after asking control-api for the current
        state (the new log may hold no snapshot yet).
        """
        end = consumer.highwater(tp)
        if end is None:
            return
        position = await consumer.position(tp)
        if restarted_log(position=position, end=end):
            log.warning("control log restarted (position %d beyond its end %d): re-reading it from the start", position, end)
            await self._reread(consumer, tp)

    async def _reread(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        self.log_restarts += 1
        self._last_seen = None
        if self.settings.control_api_url:
            await self._bootstrap_state(None)
            await self._changed()
        await consumer.seek_to_beginning(tp)

    def _parse(self, value: bytes | None) -> ControlCommand | None:
        if not value:
            return None
        try:
            event = event_adapter().validate_json(value)
        except ValidationError:
            log.warning("ignoring malformed control message")
            return None
        return event if isinstance(event, ControlCommand) else None

    def _apply_state(self, command: ControlCommand) -> bool:
        """Apply pause/resume/config from a command; True when it carried state."""
        if command.target is not None:
            return False  # per-target commands are for the services that own that target's work
        changed = False
        if command.command in (CommandName.PAUSE, CommandName.RESUME, CommandName.STATE_SNAPSHOT) and command.paused is not None:
            self._paused = command.paused
            self._paused_reason = command.reason if command.paused else ""
            changed = True
        elif command.command is CommandName.PAUSE:
            self._paused, self._paused_reason, changed = True, command.reason, True
        elif command.command is CommandName.RESUME:
            self._paused, self._paused_reason, changed = False, "", True
        if command.command in (CommandName.CONFIG_CHANGED, CommandName.STATE_SNAPSHOT) and command.config is not None:
            try:
                self._set_config(command.config, at=command.occurred_at.timestamp())
                changed = True
            except ValidationError:
                log.error("ignoring invalid configuration in %s", command.event_id)
        return changed

    def _set_config(self, data: Any, *, at: float | None = None) -> None:
        config = MedicConfig.model_validate(data)
        if self._config is not None and config.version < self._config.version:
            return  # an older snapshot never replaces a newer config
        self._config = config
        self._config_at = max(at or 0.0, self._config_at or 0.0) if at else time.time()

    async def _changed(self) -> None:
        self.metrics.paused.labels(self.metrics.service).set(1 if self.paused else 0)
        self.changed.set()
        await self.store.kv_set(
            "control.state",
            {
                "paused": self._paused,
                "reason": self._paused_reason,
                "config": self._config.model_dump(mode="json") if self._config else None,
                "config_at": self._config_at,
            },
        )
        snap = self.snapshot()
        for fn in self._watchers:
            try:
                await fn(snap)
            except Exception:
                log.exception("control watcher failed")
