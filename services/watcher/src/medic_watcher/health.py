"""How each source is doing, for ``GET /sources`` and ``/metrics``.

A failing source is an operational fact to show (named, with its error), not a reason to take
the watcher out of service: ``/readyz`` stays true while the watcher can serve and reach the
broker, and every other source keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from .pushqueue import PushQueue
    from .targets import TargetWatch

__all__ = ["SourceHealth", "WatcherMetrics", "sources_status"]

SourceStatus = Literal["pending", "ok", "error"]


@dataclass(slots=True)
class SourceHealth:
    """One source's last poll (or push): when, whether it worked, the error, and the last success."""

    kind: str
    push: bool = False
    status: SourceStatus = "pending"
    failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_attempt: datetime | None = None
    last_ok: datetime | None = None
    events: int = 0
    #: The replica polling this source now (its poll lease's holder); None for push-only sources.
    polled_by: str | None = None

    def succeeded(self, *, at: datetime, events: int = 0) -> None:
        """A poll or push went through."""
        self.status = "ok"
        self.failures = 0
        self.last_error = None
        self.last_attempt = self.last_ok = at
        self.events += events

    def failed(self, error: str, *, at: datetime) -> None:
        """A poll failed with ``error``."""
        self.status = "error"
        self.failures += 1
        self.last_error = error[:500]
        self.last_attempt = self.last_error_at = at

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of ``/sources``."""
        return {
            "kind": self.kind,
            "push": self.push,
            "status": self.status,
            "ok": self.status != "error",
            "failures": self.failures,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "last_attempt": self.last_attempt.isoformat() if self.last_attempt else None,
            "last_ok": self.last_ok.isoformat() if self.last_ok else None,
            "events": self.events,
            "polled_by": self.polled_by,
        }


class WatcherMetrics:
    """The watcher's own series, registered on the runtime's registry (served at ``/metrics``)."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        labels = ["service", "target", "source", "kind"]
        self.source_up = Gauge(
            "medic_watcher_source_up", "1 when the source's last poll worked, 0 when it failed.", labels, registry=registry
        )
        self.source_failures = Gauge(
            "medic_watcher_source_consecutive_failures", "Failed polls in a row.", labels, registry=registry
        )
        self.source_last_success = Gauge(
            "medic_watcher_source_last_success_timestamp_seconds", "Unix time of the last good poll.", labels, registry=registry
        )
        self.source_events = Counter(
            "medic_watcher_source_events_total", "Events read from the source.", labels, registry=registry
        )
        self.backlog = Gauge(
            "medic_watcher_push_backlog_events", "Pushed events waiting for the pipeline.", ["service"], registry=registry
        )
        self.refused = Counter(
            "medic_watcher_push_refused_total", "Pushes answered 429.", ["service", "endpoint", "reason"], registry=registry
        )

    def observe(self, target: str, source: str, health: SourceHealth, *, events: int = 0) -> None:
        """Mirror one source's health into its series."""
        labels = (self.service, target, source, health.kind)
        self.source_up.labels(*labels).set(0 if health.status == "error" else 1)
        self.source_failures.labels(*labels).set(health.failures)
        if health.last_ok is not None:
            self.source_last_success.labels(*labels).set(health.last_ok.timestamp())
        if events:
            self.source_events.labels(*labels).inc(events)


def sources_status(targets: Mapping[str, TargetWatch], pushes: PushQueue) -> dict[str, Any]:
    """Per-source health, for ``GET /sources``: each target's sources, the failing ones named, and the push backlog."""
    return {
        "targets": {name: {src: health.as_json() for src, health in watch.health.items()} for name, watch in targets.items()},
        "failing": [
            f"{name}/{src}: {health.last_error}"
            for name, watch in targets.items()
            for src, health in watch.health.items()
            if health.status == "error"
        ],
        "push_backlog": {"events": pushes.queued, "capacity": pushes.capacity, "refused": pushes.refused},
    }
