"""Detection as pure functions: observed events in, grouped occurrences and IssueDetected events out.

The service (``service.py``) runs the same functions with its stored issue states and the
control plane's configuration; the fix benchmark harness calls :func:`detect_from_sentry_events`
directly on a scenario's ``events.jsonl``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from medic_contracts import IssueDetected, MedicConfig, Producer, TargetConfig, utcnow

from .domain.fingerprint import fingerprint_of
from .domain.normalize import Normaliser
from .domain.observed import ObservedEvent
from .domain.paths import guess_in_app, to_repo_path
from .domain.templates import TemplateMiner
from .domain.tracker import IssueState, Occurrence, apply, occurrence_of, to_issue_detected

__all__ = ["FrameResolver", "detect_from_sentry_events", "group_events"]

DETECT_PRODUCER = Producer(service="watcher", instance="detect")


class FrameResolver:
    """Maps frames' deployed paths to repository-relative paths of a target (where the file exists)."""

    def __init__(self, target: TargetConfig) -> None:
        self.target = target
        repo = target.repo_path()
        self._repo = repo if repo.is_dir() else None
        self._cache: dict[str, str] = {}

    def _exists(self, relative: str) -> bool:
        assert self._repo is not None
        if ".." in Path(relative).parts:
            return False
        return (self._repo / relative).is_file()

    def path(self, file: str) -> str:
        """The repository path of a deployed path (unchanged when it cannot be resolved)."""
        cached = self._cache.get(file)
        if cached is None:
            cached = to_repo_path(
                file,
                prefixes=self.target.path_prefixes,
                source_roots=self.target.source_roots,
                exists=self._exists if self._repo is not None else None,
            )
            if len(self._cache) < 10_000:
                self._cache[file] = cached
        return cached

    def event(self, event: ObservedEvent) -> ObservedEvent:
        """The event with repository paths in its frames; a frame found in the repo counts as in-app."""
        if not event.frames:
            return event
        frames = []
        for frame in event.frames:
            resolved = self.path(frame.file)
            in_repo = self._repo is not None and resolved != frame.file and self._exists(resolved)
            frames.append(
                frame.model_copy(update={"file": resolved, "in_app": frame.in_app or (in_repo and guess_in_app(resolved))})
            )
        return dataclasses.replace(event, frames=tuple(frames))


def group_events(events: Iterable[ObservedEvent], *, miner: TemplateMiner) -> dict[tuple[str, str], list[Occurrence]]:
    """Occurrences of problem events by (service, fingerprint); plain log lines are template-mined."""
    grouped: dict[tuple[str, str], list[Occurrence]] = defaultdict(list)
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


def detect_from_sentry_events(
    events: Iterable[Mapping[str, Any]],
    *,
    target: TargetConfig,
    now: datetime | None = None,
    config: MedicConfig | None = None,
    service: str | None = None,
) -> list[IssueDetected]:
    """Group Sentry-protocol events into issues, as the watcher would on first sight of them.

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
    miner = TemplateMiner()
    results: list[IssueDetected] = []
    for occurrences in group_events(observed, miner=miner).values():
        state, publication = apply(None, occurrences, target=target.name, config=config)
        if publication is not None:
            results.append(to_issue_detected(state, publication, producer=DETECT_PRODUCER, config=config, now=reference))
    return sorted(results, key=lambda e: (e.severity.rank, e.first_seen))


def detect_observed(
    observed: Sequence[ObservedEvent],
    *,
    target: str,
    states: dict[str, IssueState],
    config: MedicConfig,
    miner: TemplateMiner,
    producer: Producer,
    now: datetime,
) -> tuple[list[IssueState], list[IssueDetected]]:
    """One detection step over stored states: (states changed, events to publish)."""
    from .domain.tracker import issue_id_for

    changed: list[IssueState] = []
    published: list[IssueDetected] = []
    for (service, fingerprint), occurrences in group_events(observed, miner=miner).items():
        issue_id = issue_id_for(target, service, fingerprint)
        state, publication = apply(states.get(issue_id), occurrences, target=target, config=config)
        states[issue_id] = state
        changed.append(state)
        if publication is not None:
            published.append(to_issue_detected(state, publication, producer=producer, config=config, now=now))
    return changed, published
