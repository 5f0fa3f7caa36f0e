"""The detection step: observed events in, changed issue states and IssueDetected events out.

Two halves, with the store in between: :func:`occurrences_of` groups one batch's new problems
(and the anomaly findings of its request samples) by issue; the worker then loads those issues'
stored states; :func:`decide` folds the occurrences into them and says what to publish. The
worker runs the two halves around its store reads; :func:`detect_observed` runs them back to back
over states held in memory (tests, benchmarks, :func:`detect_from_sentry_events`), so every caller
detects through the same code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from medic_contracts import IssueDetected, MedicConfig, Producer, TargetConfig, utcnow

from ..adapters.repo import FrameResolver
from ..domain.anomaly import AnomalyState, Baselines, RouteMetrics, anomaly_occurrence
from ..domain.fingerprint import fingerprint_of
from ..domain.normalize import Normaliser
from ..domain.observed import ObservedEvent, RouteSample
from ..domain.templates import TemplateMiner
from ..domain.tracker import IssueState, Occurrence, apply, issue_id_for, occurrence_of, to_issue_detected

__all__ = [
    "DEDUPED_SOURCES",
    "Grouped",
    "decide",
    "detect_from_sentry_events",
    "detect_observed",
    "group_events",
    "issue_keys",
    "occurrences_of",
]

DETECT_PRODUCER = Producer(service="watcher", instance="detect")
# Sources whose events carry an id of their own, seen again on a re-read: each is counted once.
DEDUPED_SOURCES = ("sentry", "vercel", "supabase")
Grouped = dict[tuple[str, str], list[Occurrence]]


def group_events(events: Iterable[ObservedEvent], *, miner: TemplateMiner) -> Grouped:
    """Occurrences of problem events by (service, fingerprint); plain log lines are template-mined."""
    grouped: Grouped = defaultdict(list)
    for event in events:
        template = None
        mined = None
        if event.exception is None and not event.frames and not event.health_check_failing and event.message:
            mined = miner.add(event.message)
            template = mined.key
        fingerprint = fingerprint_of(event, template=template)
        grouped[(event.service, fingerprint)].append(
            occurrence_of(event, fingerprint=fingerprint, template=mined.template if mined else None)
        )
    return grouped


def _is_new_problem(event: ObservedEvent, fresh: Collection[str] | None, *, problems_only: bool) -> bool:
    if problems_only and not (event.is_problem or (event.source == "sentry" and event.level == "warning")):
        return False
    return fresh is None or not event.source_event_id or event.source not in DEDUPED_SOURCES or event.source_event_id in fresh


def occurrences_of(
    events: Sequence[ObservedEvent],
    *,
    miner: TemplateMiner,
    now: datetime,
    fresh: Collection[str] | None = None,
    anomaly: AnomalyState | None = None,
    samples: Iterable[RouteSample] = (),
    metrics: Sequence[RouteMetrics] = (),
    baselines: Baselines | None = None,
    problems_only: bool = True,
    source: str | None = None,
) -> Grouped:
    """The batch's occurrences by (service, fingerprint): its new problems, then its anomaly findings.

    ``fresh`` holds the source event ids not seen before (None: every event is new). With an
    ``anomaly`` state, the batch's request samples and metric points are judged against
    ``baselines`` and the state moves on (the caller stores it). ``problems_only=False`` keeps
    events that are no problem by themselves (info-level Sentry messages). ``source`` names the
    polled source the batch was read from (None for pushes): buckets close only once it read past them.
    """
    grouped = group_events([e for e in events if _is_new_problem(e, fresh, problems_only=problems_only)], miner=miner)
    if anomaly is not None:
        anomaly.add_samples(samples, source=source, now=now)
        points = anomaly.close(now=now) + list(metrics)
        for finding in anomaly.judge(points, baselines=baselines or Baselines()):
            occ = anomaly_occurrence(finding, environment="production")
            grouped.setdefault((finding.service, occ.fingerprint), []).append(occ)
        anomaly.prune(now=now)
    return grouped


def issue_keys(target: str, grouped: Mapping[tuple[str, str], Any]) -> dict[str, tuple[str, str]]:
    """Issue id -> (service, fingerprint) of every group: the states :func:`decide` needs."""
    return {issue_id_for(target, service, fp): (service, fp) for service, fp in grouped}


def decide(
    grouped: Grouped,
    *,
    target: str,
    states: dict[str, IssueState],
    config: MedicConfig,
    producer: Producer,
    now: datetime,
) -> tuple[list[IssueState], list[IssueDetected]]:
    """Fold each group into its issue's state: (states changed, events to publish).

    ``states`` (issue id -> state, missing for a new issue) is updated in place.
    """
    changed: list[IssueState] = []
    published: list[IssueDetected] = []
    for issue_id, key in issue_keys(target, grouped).items():
        state, publication = apply(states.get(issue_id), grouped[key], target=target, config=config)
        states[issue_id] = state
        changed.append(state)
        if publication is not None:
            published.append(to_issue_detected(state, publication, producer=producer, config=config, now=now))
    return changed, published


def detect_observed(
    observed: Sequence[ObservedEvent],
    *,
    target: str,
    states: dict[str, IssueState],
    config: MedicConfig,
    miner: TemplateMiner,
    producer: Producer,
    now: datetime,
    fresh: Collection[str] | None = None,
    anomaly: AnomalyState | None = None,
    samples: Iterable[RouteSample] = (),
    metrics: Sequence[RouteMetrics] = (),
    baselines: Baselines | None = None,
    problems_only: bool = True,
) -> tuple[list[IssueState], list[IssueDetected]]:
    """One detection step over states held in memory: (states changed, events to publish)."""
    grouped = occurrences_of(
        observed,
        miner=miner,
        now=now,
        fresh=fresh,
        anomaly=anomaly,
        samples=samples,
        metrics=metrics,
        baselines=baselines,
        problems_only=problems_only,
    )
    return decide(grouped, target=target, states=states, config=config, producer=producer, now=now)


def detect_from_sentry_events(
    events: Iterable[Mapping[str, Any]],
    *,
    target: TargetConfig,
    now: datetime | None = None,
    config: MedicConfig | None = None,
    service: str | None = None,
) -> list[IssueDetected]:
    """Sentry-protocol events as the IssueDetected events the watcher publishes on first sight of them.

    The one Sentry event -> IssueDetected builder (benchmarks and ``medic diagnose`` call it too).
    Frames carry repository-relative paths where the target's repo resolves them. Each issue is
    published as new; deadlines count from ``now`` (default: the latest event's time, so a
    recorded scenario detects the same way whenever it is replayed). Most urgent first.
    """
    config = config or MedicConfig()
    normaliser = Normaliser()
    resolver = FrameResolver(target)
    fallback = now or utcnow()
    observed = [
        resolver.event(normaliser.sentry_event(raw, service=service or target.services[0], now=fallback))
        for raw in events
        if isinstance(raw, Mapping)
    ]
    if not observed:
        return []
    reference = now or max(e.timestamp for e in observed)
    _, published = detect_observed(
        observed,
        target=target.name,
        states={},
        config=config,
        miner=TemplateMiner(),
        producer=DETECT_PRODUCER,
        now=reference,
        # Each event handed over here was captured as an issue by its SDK, a message-only one too.
        problems_only=False,
    )
    return sorted(published, key=lambda e: (e.severity.rank, e.first_seen))
