"""The one event model every source yields, and the request/health samples anomaly detection reads.

Sources differ wildly (Sentry events, Vercel drain entries, Supabase log rows, JSON log lines,
health checks, Prometheus series); after normalisation they are all :class:`ObservedEvent`s,
already redacted, so grouping, tracking and severity never see a vendor shape or a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from medic_contracts import ExceptionInfo, Link, RequestContext, StackFrame

__all__ = ["LEVELS", "HealthResult", "Level", "ObservedEvent", "RouteSample", "level_rank"]

Level = Literal["debug", "info", "warning", "error", "fatal"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning", "error", "fatal")


def level_rank(level: str) -> int:
    """0 for debug up to 4 for fatal (unknown levels count as info)."""
    try:
        return (*LEVELS,).index(level)
    except ValueError:
        return 1


@dataclass(frozen=True, slots=True)
class ObservedEvent:
    """One thing a source saw: an error, a log line, a failed request or a failed health check.

    Every text field is redacted and truncated by the normaliser that built it.
    """

    source: str
    service: str
    timestamp: datetime
    level: Level
    message: str
    exception: ExceptionInfo | None = None
    frames: tuple[StackFrame, ...] = ()
    raw_trace: str | None = None
    request: RequestContext | None = None
    user_key: str | None = None  # a hash of the user id: distinct users are counted, never stored
    release: str | None = None
    commit_sha: str | None = None
    environment: str = "production"
    client_fingerprint: tuple[str, ...] | None = None
    platform: str | None = None
    source_event_id: str | None = None
    links: tuple[Link, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    health_check_failing: bool = False
    logger: str | None = None

    @property
    def is_problem(self) -> bool:
        """True when this event should become (part of) an issue: errors, 5xx, crashes, failing checks."""
        if self.health_check_failing or self.exception is not None:
            return True
        if (
            self.request is not None
            and self.request.status is not None
            and (self.request.status >= 500 or self.request.status == -1)
        ):
            return True
        return level_rank(self.level) >= level_rank("error")


@dataclass(frozen=True, slots=True)
class RouteSample:
    """One served request (from logs or drains): what traffic, error-rate and latency baselines learn from."""

    service: str
    route: str
    timestamp: datetime
    status: int | None
    duration_ms: float | None

    @property
    def is_error(self) -> bool:
        """5xx, or a crashed function (-1)."""
        return self.status is not None and (self.status >= 500 or self.status == -1)


@dataclass(frozen=True, slots=True)
class HealthResult:
    """The outcome of one HTTP health check probe."""

    name: str
    url: str
    service: str
    timestamp: datetime
    ok: bool
    status: int | None
    latency_ms: float | None
    over_budget: bool
    error: str | None = None
