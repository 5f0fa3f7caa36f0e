"""A synthetic stream with injected incidents: each is detected within one poll, and nothing else is."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from medic_contracts import ExceptionInfo, MedicConfig, Producer, RequestContext, StackFrame
from medic_watcher.domain.anomaly import AnomalyState, Baselines, anomaly_occurrence
from medic_watcher.domain.observed import ObservedEvent, RouteSample
from medic_watcher.domain.templates import TemplateMiner
from medic_watcher.domain.tracker import IssueState, apply, issue_id_for, to_issue_detected
from medic_watcher.job.detect import group_events

START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
POLL = timedelta(minutes=5)
ROUTES = {"/api/items": (120, 80.0), "/api/cart": (60, 120.0), "/api/search": (30, 200.0)}  # per-minute rate, median ms


def traffic(
    minute: int, rng: random.Random, *, incidents: dict[str, tuple[int, int]]
) -> tuple[list[RouteSample], list[ObservedEvent]]:
    """One minute of requests (and error events) with the incidents active at that minute."""
    at = START + timedelta(minutes=minute)
    samples: list[RouteSample] = []
    events: list[ObservedEvent] = []

    def active(name: str) -> bool:
        first, last = incidents.get(name, (-1, -1))
        return first <= minute < last

    daily = 1.0 + 0.3 * __import__("math").sin(minute / 240)  # slow daily swing
    for route, (rate, median) in ROUTES.items():
        n = max(0, round(rng.gauss(rate * daily, (rate * daily) ** 0.5)))
        if active("traffic_drop") and route == "/api/items":
            n = round(n * 0.05)
        for i in range(n):
            ts = at + timedelta(seconds=rng.random() * 59)
            duration = rng.lognormvariate(__import__("math").log(median), 0.35)
            if active("latency") and route == "/api/search":
                duration *= 4
            status = 200
            if active("error_burst") and route == "/api/cart" and rng.random() < 0.4:
                status = 500
                events.append(ObservedEvent(
                    source="logfile", service="web", timestamp=ts, level="error", message="checkout failed",
                    exception=ExceptionInfo(type="TypeError", value="Cannot read properties of undefined (reading 'total')"),
                    frames=(StackFrame(file="src/cart.ts", function="checkout", line=40, in_app=True),),
                    request=RequestContext(method="POST", route=route, status=500), user_key=f"u{i % 17}",
                ))  # fmt: skip
            samples.append(RouteSample(service="web", route=route, timestamp=ts, status=status, duration_ms=duration))
    if active("trickle") and minute % 7 == 0:
        events.append(ObservedEvent(
            source="logfile", service="web", timestamp=at, level="error", message="export failed",
            exception=ExceptionInfo(type="RangeError", value="Invalid time value"),
            frames=(StackFrame(file="src/export.ts", function="toCsv", line=12, in_app=True),), user_key="u1",
        ))  # fmt: skip
    return samples, events


def run(*, hours: float, incidents: dict[str, tuple[int, int]], seed: int) -> dict[str, datetime]:
    """Feed the stream poll by poll through grouping, anomaly detection and tracking; when each title was first published."""
    rng = random.Random(seed)
    anomaly = AnomalyState()
    miner = TemplateMiner()
    states: dict[str, IssueState] = {}
    config = MedicConfig()
    producer = Producer(service="watcher", instance="test")
    first_published: dict[str, datetime] = {}
    minute = 0
    total = int(hours * 60)
    while minute < total:
        samples: list[RouteSample] = []
        events: list[ObservedEvent] = []
        for m in range(minute, minute + 5):
            s, e = traffic(m, rng, incidents=incidents)
            samples += s
            events += e
        minute += 5
        now = START + timedelta(minutes=minute)
        grouped = group_events(events, miner=miner)
        anomaly.add_samples(samples)
        for finding in anomaly.judge(anomaly.close(now=now, lag_s=0), baselines=Baselines()):
            occ = anomaly_occurrence(finding, environment="production")
            grouped.setdefault((finding.service, occ.fingerprint), []).append(occ)
        for (service, fingerprint), occurrences in grouped.items():
            issue_id = issue_id_for("shop", service, fingerprint)
            state, publication = apply(states.get(issue_id), occurrences, target="shop", config=config)
            states[issue_id] = state
            if publication is not None:
                event = to_issue_detected(state, publication, producer=producer, config=config, now=now)
                first_published.setdefault(event.title, now)
    return first_published


def test_normal_traffic_alone_raises_no_issue_over_a_day() -> None:
    for seed in (1, 2):
        assert run(hours=12, incidents={}, seed=seed) == {}


def test_every_injected_incident_is_detected_within_one_poll_and_nothing_else() -> None:
    incidents = {  # minutes (start, end) after a 3-hour warm-up
        "error_burst": (200, 215),
        "latency": (300, 320),
        "traffic_drop": (400, 420),
        "trickle": (500, 600),
    }
    published = run(hours=11, incidents=incidents, seed=7)
    start_of = {name: START + timedelta(minutes=first) for name, (first, _) in incidents.items()}

    def detected(match: str) -> datetime:
        hits = [t for title, t in published.items() if match in title]
        assert hits, f"{match!r} not detected; published: {sorted(published)}"
        return min(hits)

    within = POLL * 2  # the poll covering the start, or the next one at the latest (one poll interval)
    assert detected("TypeError") - start_of["error_burst"] <= within
    assert detected("p95 latency regression on /api/search") - start_of["latency"] <= within
    assert detected("traffic drop on /api/items") - start_of["traffic_drop"] <= within
    assert detected("RangeError") - start_of["trickle"] <= within
    expected = (
        "TypeError",
        "error rate spike on /api/cart",
        "error rate spike on all routes",
        "p95 latency regression on /api/search",
        "p95 latency regression on all routes",
        "traffic drop on /api/items",
        "traffic drop on all routes",
        "RangeError",
    )
    unexpected = [t for t in published if not any(e in t for e in expected)]
    assert unexpected == []


def test_an_anomaly_issue_carries_its_window_and_the_edge_of_the_expected_range() -> None:
    from medic_watcher.domain.anomaly import RouteMetrics

    state = AnomalyState()
    normal = [RouteMetrics("web", "/api/search", START + timedelta(minutes=m), 100, 1, 200.0 + m % 3) for m in range(20)]
    state.judge(normal, baselines=Baselines())
    slow = [RouteMetrics("web", "/api/search", START + timedelta(minutes=20 + m), 100, 1, 900.0) for m in range(2)]
    findings = [f for f in state.judge(slow, baselines=Baselines()) if f.metric == "p95_latency"]
    assert findings, "the latency regression was not detected"
    finding = findings[0]
    assert finding.bound is not None and finding.baseline < finding.bound < finding.value
    tags = anomaly_occurrence(finding, environment="production").event.tags
    assert tags["medic.anomaly.window_start"] == finding.at.isoformat()
    assert tags["medic.anomaly.window_end"] == (finding.at + timedelta(minutes=1)).isoformat()
    assert float(tags["medic.anomaly.bound"]) == pytest.approx(finding.bound, rel=1e-3)


def _served(route: str, at: datetime, n: int) -> list[RouteSample]:
    return [RouteSample("web", route, at + timedelta(milliseconds=i), 200, 20.0) for i in range(n)]


def test_a_bucket_waits_for_every_polled_source_that_feeds_samples() -> None:
    # The web log is polled every 5 minutes, a health check every few seconds: the health check's
    # poll must not close the minutes whose requests the log has not been read for yet.
    state = AnomalyState()
    state.add_samples(_served("/api/items", START, 50), source="web-log", now=START + timedelta(seconds=59))
    assert state.close(now=START + timedelta(minutes=4), lag_s=0) == []  # the health check's poll: the log has not read on
    state.add_samples(_served("/api/items", START + timedelta(minutes=1), 40), source="web-log", now=START + timedelta(minutes=5))
    closed = {(p.route, p.at): p.requests for p in state.close(now=START + timedelta(minutes=5), lag_s=0)}
    assert closed[("/api/items", START)] == 50
    assert closed[("/api/items", START + timedelta(minutes=1))] == 40


def test_a_polled_source_that_stopped_answering_no_longer_holds_the_buckets_back() -> None:
    state = AnomalyState()
    state.add_samples(_served("/api/items", START, 30), source="web-log", now=START + timedelta(seconds=59))
    later = START + timedelta(minutes=60)
    assert any(p.at == START for p in state.close(now=later, lag_s=0))


def test_a_traffic_surge_is_detected_as_a_spike_and_steady_traffic_is_not() -> None:
    from medic_watcher.domain.anomaly import RouteMetrics

    rng = random.Random(5)
    state = AnomalyState(bucket_s=2)
    at = START
    points = []
    for i in range(40):
        points.append(RouteMetrics("web", "*", at + timedelta(seconds=2 * i), rng.gauss(60, 6), 0, 20.0))
    assert state.judge(points, baselines=Baselines()) == []
    surge = [RouteMetrics("web", "*", at + timedelta(seconds=80 + 2 * i), 260, 0, 20.0) for i in range(3)]
    findings = state.judge(surge, baselines=Baselines())
    assert [f.metric for f in findings] == ["traffic_spike", "traffic_spike"]
    assert findings[0].window_s == 2
    assert findings[0].description.startswith("traffic spike on all routes: 260/2s vs baseline")


def test_compressed_buckets_aggregate_by_their_own_length() -> None:
    state = AnomalyState(bucket_s=5)
    state.add_samples(_served("/api/items", START, 10))
    state.add_samples(_served("/api/items", START + timedelta(seconds=5), 7))
    closed = [p for p in state.close(now=START + timedelta(seconds=20)) if p.route == "/api/items"]
    assert [(p.at - START).total_seconds() for p in closed][:2] == [0.0, 5.0]
    assert [p.requests for p in closed][:2] == [10, 7]
