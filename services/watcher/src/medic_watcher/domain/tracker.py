"""Issue tracking: one issue per target, service and fingerprint, and when to publish it.

An :class:`IssueState` keeps what the watcher knows about an issue: first/last seen, a
bucketed sliding window of occurrences (bounded memory whatever the rate), distinct affected
users (hashed, capped), the representative occurrence, the severity last published, and the fix
promoted for it. :func:`apply` folds a batch of occurrences into it and says whether to publish:
new, severity raised, or regressed after a promoted fix — never on every poll.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from medic_contracts import (
    DetectionReason,
    ExceptionInfo,
    Frequency,
    IssueDetected,
    IssueType,
    Link,
    MedicConfig,
    Producer,
    RequestContext,
    Severity,
    StackFrame,
    decide_recurrence,
)

from .observed import ObservedEvent, level_rank
from .severity import SeverityDecision, SeverityFacts, classify, decide_severity

__all__ = ["FREQUENCY_WINDOW_S", "IssueState", "Occurrence", "Publication", "apply", "issue_id_for", "to_issue_detected"]

FREQUENCY_WINDOW_S = 300
MAX_USERS = 5_000
MAX_BUCKETS = 600


def issue_id_for(target: str, service: str, fingerprint: str) -> str:
    """The stable issue id of a fingerprint in a target's service."""
    return "iss_" + hashlib.sha256(f"{target}\x1f{service}\x1f{fingerprint}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One grouped observation: the event, its fingerprint, type and title."""

    event: ObservedEvent
    fingerprint: str
    issue_type: IssueType
    title: str
    error_rate: float | None = None


class IssueState(BaseModel):
    """Everything the watcher remembers about one issue (stored as JSON in its store)."""

    model_config = ConfigDict(extra="ignore")

    issue_id: str
    target: str
    service: str
    fingerprint: str
    issue_type: IssueType
    title: str
    message: str = ""
    source: str = ""
    environment: str = "production"
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    total: int = 0
    bucket_s: int = 1
    buckets: dict[int, int] = Field(default_factory=dict)  # bucket start (epoch s) -> occurrences
    users: list[str] = Field(default_factory=list)
    exception: ExceptionInfo | None = None
    frames: tuple[StackFrame, ...] = ()
    raw_trace: str | None = None
    request: RequestContext | None = None
    release: str | None = None
    commit_sha: str | None = None
    links: tuple[Link, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    status: int | None = None
    route: str | None = None
    health_check_failing: bool = False
    informational: bool = True
    error_rate: float | None = None
    published_severity: Severity | None = None
    correlation_id: str | None = None
    fixed_at: AwareDatetime | None = None
    fix_commit: str | None = None
    regressions: int = 0

    def count_in(self, seconds: int) -> int:
        """Occurrences in the ``seconds`` up to the last one."""
        end = int(self.last_seen.timestamp())
        start = end - seconds
        return sum(n for b, n in self.buckets.items() if b + self.bucket_s > start)

    @property
    def affected_users(self) -> int:
        """Distinct users seen (capped at MAX_USERS)."""
        return len(self.users)


@dataclass(frozen=True, slots=True)
class Publication:
    """The decision to publish an issue now, and why."""

    reason: DetectionReason
    severity: Severity
    previous: Severity | None
    rule: str


def _bucket_size(horizon_s: int) -> int:
    return max(1, math.ceil(horizon_s / MAX_BUCKETS))


def _horizon(config: MedicConfig) -> int:
    windows = [r.window_seconds for r in config.severity_rules if r.min_count is not None]
    return max([FREQUENCY_WINDOW_S, *windows])


def _record(state: IssueState, occ: Occurrence, *, horizon_s: int) -> None:
    event = occ.event
    ts = event.timestamp
    bucket = int(ts.timestamp()) // state.bucket_s * state.bucket_s
    state.buckets[bucket] = state.buckets.get(bucket, 0) + 1
    state.total += 1
    state.first_seen = min(state.first_seen, ts)
    if ts >= state.last_seen:
        state.last_seen = ts
        # The latest occurrence is the representative one: fresh frames, request and release.
        state.message = event.message
        state.exception = event.exception or state.exception
        state.frames = event.frames or state.frames
        state.raw_trace = event.raw_trace or state.raw_trace
        state.request = event.request or state.request
        state.release = event.release or state.release
        state.commit_sha = event.commit_sha or state.commit_sha
        state.links = event.links or state.links
        state.tags = {**state.tags, **event.tags}
        state.environment = event.environment
        state.title = occ.title
        state.health_check_failing = event.health_check_failing
        if occ.error_rate is not None:
            state.error_rate = occ.error_rate
    if event.request is not None:
        if event.request.status is not None:
            state.status = max(state.status or 0, event.request.status)
        state.route = event.request.route or state.route
    if (
        event.exception is not None
        and event.request is not None
        and event.request.status is None
        and event.platform
        not in (
            "javascript",
            "browser",
        )
    ):
        # An unhandled exception during a server request is answered with a 500.
        state.status = max(state.status or 0, 500)
    if level_rank(event.level) >= level_rank("error") or event.exception is not None or event.health_check_failing:
        state.informational = False
    if event.request is not None and (event.request.status or 0) >= 500:
        state.informational = False
    if event.user_key and event.user_key not in state.users and len(state.users) < MAX_USERS:
        state.users.append(event.user_key)
    # Keep the window bounded: drop buckets older than the longest rule window.
    floor = int(state.last_seen.timestamp()) - horizon_s - state.bucket_s
    if len(state.buckets) > MAX_BUCKETS or min(state.buckets) < floor:
        state.buckets = {b: n for b, n in state.buckets.items() if b >= floor}


def apply(
    state: IssueState | None,
    occurrences: Sequence[Occurrence],
    *,
    target: str,
    config: MedicConfig,
) -> tuple[IssueState, Publication | None]:
    """Fold one batch of occurrences (same issue) into its state; say whether to publish it now."""
    if not occurrences:
        raise ValueError("apply needs at least one occurrence")
    first = min(occurrences, key=lambda o: o.event.timestamp)
    horizon = _horizon(config)
    if state is None:
        state = IssueState(
            issue_id=issue_id_for(target, first.event.service, first.fingerprint),
            target=target,
            service=first.event.service,
            fingerprint=first.fingerprint,
            issue_type=first.issue_type,
            title=first.title,
            source=first.event.source,
            first_seen=first.event.timestamp,
            last_seen=first.event.timestamp,
            bucket_s=_bucket_size(horizon),
        )
    regressed = False
    for occ in sorted(occurrences, key=lambda o: o.event.timestamp):
        if decide_recurrence(seen_at=occ.event.timestamp, fixed_at=state.fixed_at).recurred:
            regressed = True
        _record(state, occ, horizon_s=horizon)
    decision = severity_of(state, config)
    previous = state.published_severity
    publication: Publication | None = None
    if regressed:
        state.regressions += 1
        state.fixed_at = None
        publication = Publication(DetectionReason.REGRESSED, decision.severity, previous, decision.rule)
    elif previous is None:
        publication = Publication(DetectionReason.NEW, decision.severity, None, decision.rule)
    elif decision.severity.rank < previous.rank:
        publication = Publication(DetectionReason.SEVERITY_RAISED, decision.severity, previous, decision.rule)
    if publication is not None:
        state.published_severity = (
            publication.severity if previous is None or publication.severity.rank < previous.rank else previous
        )
        if publication.reason is DetectionReason.REGRESSED:
            state.published_severity = publication.severity
    return state, publication


def severity_of(state: IssueState, config: MedicConfig) -> SeverityDecision:
    """The severity the rules give an issue's current facts."""
    facts = SeverityFacts(
        issue_type=state.issue_type,
        count_in=state.count_in,
        affected_users=state.affected_users,
        status=state.status,
        route=state.route,
        health_check_failing=state.health_check_failing,
        error_rate=state.error_rate,
        informational=state.informational,
    )
    return decide_severity(config.severity_rules, facts)


def mark_fixed(state: IssueState, *, at: datetime, commit: str | None) -> None:
    """Remember that a fix for this issue was promoted to production at ``at``."""
    state.fixed_at = at
    state.fix_commit = commit


def to_issue_detected(
    state: IssueState, publication: Publication, *, producer: Producer, config: MedicConfig, now: datetime
) -> IssueDetected:
    """The IssueDetected event for a publication, with the SLA deadline of its severity."""
    minutes = config.sla.minutes(publication.severity)
    deadline = now + timedelta(minutes=minutes) if minutes is not None else None
    extra: dict[str, str] = {"severity_rule": publication.rule[:200]}
    if state.fix_commit and publication.reason is DetectionReason.REGRESSED:
        extra["regressed_after_fix"] = state.fix_commit
    return IssueDetected(
        producer=producer,
        issue_id=state.issue_id,
        correlation_id=state.correlation_id or state.issue_id,
        target=state.target,
        service=state.service,
        environment=state.environment,
        reason=publication.reason,
        severity=publication.severity,
        previous_severity=publication.previous,
        issue_type=state.issue_type,
        title=state.title[:500],
        message=state.message[:20_000],
        fingerprint=state.fingerprint,
        frequency=Frequency(count=state.count_in(FREQUENCY_WINDOW_S), window_seconds=FREQUENCY_WINDOW_S, total=state.total),
        affected_users=state.affected_users,
        first_seen=state.first_seen,
        last_seen=state.last_seen,
        exception=state.exception,
        frames=state.frames,
        raw_trace=state.raw_trace[:100_000] if state.raw_trace else None,
        request=state.request,
        release=state.release,
        commit_sha=state.commit_sha,
        source=state.source,
        links=state.links,
        tags={**dict(list(state.tags.items())[:40]), **extra},
        deadline=deadline,
    )


def title_for(event: ObservedEvent, *, template: str | None = None) -> str:
    """A short title: the exception, the failing route, the failing check, or the message template."""
    req = event.request
    if (
        event.exception is None
        and req is not None
        and req.route
        and req.status is not None
        and (req.status >= 500 or req.status == -1)
    ):
        status = "crashing" if req.status == -1 else f"returning {req.status}"
        return f"{req.method + ' ' if req.method else ''}{req.route} {status}"
    if event.exception is not None:
        exc = event.exception
        return (f"{exc.type}: {exc.value}" if exc.value else exc.type)[:300]
    return (template or event.message or "(no message)")[:300]


def occurrence_of(event: ObservedEvent, *, fingerprint: str, template: str | None = None) -> Occurrence:
    """An occurrence with its type and title decided."""
    return Occurrence(event=event, fingerprint=fingerprint, issue_type=classify(event), title=title_for(event, template=template))
