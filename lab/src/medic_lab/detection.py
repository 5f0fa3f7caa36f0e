"""``medic bench detection --json``: false positives and time to detect on shop-like traffic with injected faults.

A synthetic stand-in for the demo shop (its three API routes, their request rates and latency
distributions, a slow daily swing), not the running app: minute by minute requests and error
events are generated, and on a schedule four kinds of fault are injected (an exception burst
with a 500 error rate, a p95 latency regression, a traffic drop, a slow trickle of a new
exception). Every five-minute poll runs the watcher's own pipeline (template grouping, anomaly
baselines, issue tracking) exactly as the service does, and each published issue is matched to
the fault active at the time (by what it names) or counted as a false positive.

Reported: polls, polls with a false positive (the false-positive detection rate), faults
detected (a new issue naming it, or its occurrences folded into the open issue of an earlier
fault of the same kind), and the median minutes from a fault's start to its detection.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from medic_contracts import ExceptionInfo, MedicConfig, Producer, RequestContext, StackFrame
from medic_watcher.domain.anomaly import AnomalyState, Baselines, anomaly_occurrence
from medic_watcher.domain.observed import ObservedEvent, RouteSample
from medic_watcher.domain.templates import TemplateMiner
from medic_watcher.domain.tracker import IssueState, apply, issue_id_for, to_issue_detected
from medic_watcher.job.detect import group_events

__all__ = ["FAULT_KINDS", "Fault", "run"]

START = datetime(2026, 11, 27, tzinfo=UTC)
POLL_MINUTES = 5
ROUTES = {"/api/items": (120, 80.0), "/api/cart": (60, 120.0), "/api/search": (30, 200.0)}  # per minute, median ms
#: Each fault kind and the words an issue about it names (any of them).
FAULT_KINDS: dict[str, tuple[str, ...]] = {
    "error_burst": ("TypeError", "error rate spike"),
    "latency": ("p95 latency regression",),
    "traffic_drop": ("traffic drop",),
    "trickle": ("RangeError",),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: its kind and minutes [start, end)."""

    kind: str
    start: int
    end: int


def _schedule(hours: float, rng: random.Random, *, warmup_min: int = 180, gap_min: int = 90) -> list[Fault]:
    faults: list[Fault] = []
    minute, kinds = warmup_min, list(FAULT_KINDS)
    while minute + 60 < hours * 60:
        kind = kinds[len(faults) % len(kinds)]
        length = 100 if kind == "trickle" else rng.randrange(10, 25)
        faults.append(Fault(kind, minute, minute + length))
        minute += length + gap_min + rng.randrange(0, 60)
    return faults


def _minute(m: int, rng: random.Random, active: set[str]) -> tuple[list[RouteSample], list[ObservedEvent]]:
    at = START + timedelta(minutes=m)
    samples: list[RouteSample] = []
    events: list[ObservedEvent] = []
    swing = 1.0 + 0.3 * math.sin(2 * math.pi * m / 1440)
    for route, (rate, median) in ROUTES.items():
        n = max(0, round(rng.gauss(rate * swing, (rate * swing) ** 0.5)))
        if "traffic_drop" in active and route == "/api/items":
            n = round(n * 0.05)
        for i in range(n):
            ts = at + timedelta(seconds=rng.random() * 59)
            duration = rng.lognormvariate(math.log(median), 0.35)
            if "latency" in active and route == "/api/search":
                duration *= 4
            status = 200
            # Background noise: a rare 404 or a slow outlier is normal traffic.
            if rng.random() < 0.002:
                status = 404
            if "error_burst" in active and route == "/api/cart" and rng.random() < 0.4:
                status = 500
                events.append(ObservedEvent(
                    source="logfile", service="web", timestamp=ts, level="error", message="checkout failed",
                    exception=ExceptionInfo(type="TypeError", value="Cannot read properties of undefined (reading 'total')"),
                    frames=(StackFrame(file="src/cart.ts", function="checkout", line=40, in_app=True),),
                    request=RequestContext(method="POST", route=route, status=500), user_key=f"u{i % 17}",
                ))  # fmt: skip
            samples.append(RouteSample(service="web", route=route, timestamp=ts, status=status, duration_ms=duration))
    if "trickle" in active and m % 7 == 0:
        events.append(ObservedEvent(
            source="logfile", service="web", timestamp=at, level="error", message="export failed",
            exception=ExceptionInfo(type="RangeError", value="Invalid time value"),
            frames=(StackFrame(file="src/export.ts", function="toCsv", line=12, in_app=True),), user_key="u1",
        ))  # fmt: skip
    return samples, events


def _blamed(faults: list[Fault], title: str, minute: int) -> list[int]:
    # A fault is to blame if the issue names it and it ran during this poll (or ended within the previous two).
    return [
        i for i, f in enumerate(faults)
        if any(word in title for word in FAULT_KINDS[f.kind]) and f.start < minute + POLL_MINUTES
        and minute < f.end + 2 * POLL_MINUTES
    ]  # fmt: skip


def run(*, hours: float = 24.0, seed: int = 7) -> dict[str, Any]:
    """Stream ``hours`` of traffic with scheduled faults through the watcher's pipeline; score the issues it publishes."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible benchmark stream, not a secret
    faults = _schedule(hours, rng)
    anomaly, miner, config = AnomalyState(), TemplateMiner(), MedicConfig()
    producer = Producer(service="watcher", instance="bench")
    states: dict[str, IssueState] = {}
    first_detected: dict[int, datetime] = {}
    false_positive_polls = 0
    false_positives: list[str] = []
    polls = 0
    total = int(hours * 60)
    for minute in range(0, total, POLL_MINUTES):
        samples: list[RouteSample] = []
        events: list[ObservedEvent] = []
        for m in range(minute, minute + POLL_MINUTES):
            active = {f.kind for f in faults if f.start <= m < f.end}
            s, e = _minute(m, rng, active)
            samples += s
            events += e
        now = START + timedelta(minutes=minute + POLL_MINUTES)
        grouped = group_events(events, miner=miner)
        anomaly.add_samples(samples)
        for finding in anomaly.judge(anomaly.close(now=now, lag_s=0), baselines=Baselines()):
            occ = anomaly_occurrence(finding, environment="production")
            grouped.setdefault((finding.service, occ.fingerprint), []).append(occ)
        polls += 1
        wrong = False
        for (service, fingerprint), occurrences in grouped.items():
            issue_id = issue_id_for("shop", service, fingerprint)
            before = states.get(issue_id)
            state, publication = apply(before, occurrences, target="shop", config=config)
            states[issue_id] = state
            if publication is not None:
                title = to_issue_detected(state, publication, producer=producer, config=config, now=now).title
            elif before is not None and before.published_severity is not None:
                # A fault recurring into an issue that is still open is seen, not published again.
                title = state.title
            else:
                continue
            blamed = _blamed(faults, title, minute)
            if not blamed and publication is not None:
                wrong = True
                false_positives.append(title)
            for i in blamed:
                first_detected.setdefault(i, now)
        false_positive_polls += wrong
    delays = [
        (first_detected[i] - (START + timedelta(minutes=f.start))).total_seconds() / 60
        for i, f in enumerate(faults)
        if i in first_detected
    ]
    return {
        "hours": hours,
        "polls": polls,
        "false_positive_polls": false_positive_polls,
        "false_positive_rate": round(false_positive_polls / polls, 4) if polls else 0.0,
        "false_positive_titles": sorted(set(false_positives))[:20],
        "faults": len(faults),
        "faults_detected": len(first_detected),
        "median_minutes_to_detect": round(statistics.median(delays), 1) if delays else None,
        "per_kind": {
            kind: {
                "injected": sum(f.kind == kind for f in faults),
                "detected": sum(f.kind == kind and i in first_detected for i, f in enumerate(faults)),
            }
            for kind in FAULT_KINDS
        },
        "traffic": "synthetic shop-like traffic (not the running demo app)",
    }
