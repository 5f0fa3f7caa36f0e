"""Metric series fed through the running watcher: its SeriesDetector raises anomaly issues with their evidence."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic_contracts import IssueDetected, IssueType
from medic_runtime import ServiceSettings
from medic_watcher.adapters.sources.base import PollResult
from medic_watcher.app import build_watcher
from medic_watcher.domain.anomaly import RouteMetrics
from medic_watcher.settings import WatcherSettings
from medic_watcher.worker import Watcher

from .test_service import write_target

pytestmark = pytest.mark.kafka

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def minute(m: int, rng: random.Random, *, p95_ms: float | None = None) -> RouteMetrics:
    """One noisy minute of /api/search as a Prometheus source reports it (about 200 ms p95, an error now and then)."""
    requests = max(30.0, round(rng.gauss(120, 11)))
    latency = p95_ms if p95_ms is not None else rng.gauss(200, 12)
    return RouteMetrics("web", "/api/search", START + timedelta(minutes=m), requests, float(rng.random() < 0.3), latency)


async def feed(watcher: Watcher, points: list[RouteMetrics]) -> list[IssueDetected]:
    """Five minutes per poll, through the watcher's own ingest transaction (store, baselines, outbox)."""
    watch = watcher.targets["shop"]
    published: list[IssueDetected] = []
    for i in range(0, len(points), 5):
        batch = points[i : i + 5]
        now = batch[-1].at + timedelta(minutes=1)
        published += await watcher.ingest(watch, PollResult(metrics=batch), source="logfile", now=now, save_cursor=False)
    return published


def logfile_settings(service_settings: Callable[..., ServiceSettings], tmp_path: Path) -> ServiceSettings:
    """Watcher settings for one target whose only source is an empty log file polled hourly (the test feeds it)."""
    (tmp_path / "app.log").write_text("")
    return service_settings(
        "watcher", cls=WatcherSettings, targets=str(write_target(tmp_path, kind="logfile", path="app.log", interval_s=3600))
    )


async def test_steady_noise_through_the_service_raises_no_anomaly_issue(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path
) -> None:
    settings = logfile_settings(service_settings, tmp_path)
    rng = random.Random(3)
    rt, watcher = build_watcher(settings)  # type: ignore[arg-type]
    await rt.start()
    try:
        published = await feed(watcher, [minute(m, rng) for m in range(240)])
    finally:
        await rt.stop()
    assert published == []


async def test_a_latency_regression_after_a_restart_raises_an_issue_with_expected_range_and_observed_value(
    service_settings: Callable[..., ServiceSettings], tmp_path: Path
) -> None:
    settings = logfile_settings(service_settings, tmp_path)
    rng = random.Random(4)
    rt, watcher = build_watcher(settings)  # type: ignore[arg-type]
    await rt.start()
    try:
        assert await feed(watcher, [minute(m, rng) for m in range(60)]) == []
    finally:
        await rt.stop()

    # A new process on the same store continues from the stored baselines: the first slow minutes are judged at once.
    rt, watcher = build_watcher(settings)  # type: ignore[arg-type]
    await rt.start()
    try:
        published = await feed(watcher, [minute(60 + m, rng, p95_ms=900.0) for m in range(5)])
    finally:
        await rt.stop()

    latency = [e for e in published if e.tags.get("medic.metric") == "p95_latency"]
    assert len(latency) == 1, [e.title for e in published]
    (issue,) = latency
    assert issue.issue_type is IssueType.PERFORMANCE
    assert issue.title.startswith("p95 latency regression on /api/search")
    tags = issue.tags
    expected, low, high = (
        float(tags["medic.anomaly.expected"]),
        float(tags["medic.anomaly.low"]),
        float(tags["medic.anomaly.high"]),
    )
    assert low < expected < high < float(tags["medic.anomaly.bound"]) < float(tags["medic.anomaly.observed"])
    assert 170 < expected < 230 and float(tags["medic.anomaly.observed"]) == 900.0
    assert float(tags["medic.anomaly.deviation"]) > 6
    # The window is a judged minute of the regression (the latest one the poll saw: tags follow the newest occurrence).
    window_start = datetime.fromisoformat(tags["medic.anomaly.window_start"])
    assert START + timedelta(minutes=61) <= window_start <= START + timedelta(minutes=64)
    assert datetime.fromisoformat(tags["medic.anomaly.window_end"]) - window_start == timedelta(minutes=1)
