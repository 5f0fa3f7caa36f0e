"""Anomaly detection on per-route and per-service traffic, error rate and p95 latency.

Samples (served requests) are aggregated into one-minute buckets per route and per service
(``*``); Prometheus gives the same :class:`RouteMetrics` directly. Each series is compared with
a robust baseline of its recent normal values (median and MAD, plus an EWMA for latency) and is
anomalous only with enough volume, beyond both a relative and an absolute margin, for
``open_after`` consecutive points (hysteresis; it closes after ``close_after`` normal ones).
Anomalous points never enter the baseline, so an incident cannot teach the detector it is normal.
Detected: error-rate spikes, sudden traffic drops, and p95 latency above twice the baseline.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from .observed import RouteSample

__all__ = ["AnomalyFinding", "AnomalyState", "Baselines", "RouteMetrics"]

BUCKET_S = 60
MAX_SERIES = 2_000
MAX_DURATIONS = 500
MAX_CLOSE_MINUTES = 180


@dataclass(frozen=True, slots=True)
class RouteMetrics:
    """One minute of one route (``*`` for the whole service)."""

    service: str
    route: str
    at: datetime
    requests: float
    errors: float
    p95_ms: float | None


@dataclass(frozen=True, slots=True)
class AnomalyFinding:
    """A metric of a route outside its baseline."""

    service: str
    route: str
    metric: str  # error_rate | p95_latency | traffic_drop
    at: datetime
    value: float
    baseline: float
    error_rate: float | None
    bound: float | None = None  # the edge of the tolerated range the value crossed (the evidence)
    window_s: int = BUCKET_S  # the judged point covers [at, at + window_s)

    @property
    def description(self) -> str:
        """One line for the issue title."""
        where = "all routes" if self.route == "*" else self.route
        if self.metric == "error_rate":
            return f"error rate spike on {where}: {self.value:.1%} vs baseline {self.baseline:.1%}"
        if self.metric == "p95_latency":
            return f"p95 latency regression on {where}: {self.value:.0f} ms vs baseline {self.baseline:.0f} ms"
        return f"traffic drop on {where}: {self.value:.0f}/min vs baseline {self.baseline:.0f}/min"


class Baselines(BaseModel):
    """Detection thresholds (the defaults keep false positives rare on noisy traffic)."""

    warmup: int = Field(default=10, ge=3, description="Normal points needed before judging a series.")
    history: int = Field(default=60, ge=5, description="Normal points kept per series.")
    min_requests: float = Field(default=20, ge=1, description="Minimum requests in a minute to judge rates and latency.")
    mad_k: float = Field(default=6.0, gt=0, description="How many robust deviations beyond the median is anomalous.")
    error_rate_floor: float = Field(default=0.05, ge=0, le=1, description="Error rate must also exceed baseline by this.")
    min_errors: float = Field(default=5, ge=1, description="Errors in a minute needed for an error-rate anomaly.")
    latency_factor: float = Field(default=2.0, gt=1, description="p95 above this times the baseline is a regression.")
    latency_floor_ms: float = Field(default=50, ge=0, description="And at least this many ms above it.")
    drop_ratio: float = Field(default=0.3, gt=0, lt=1, description="Traffic below this share of the baseline is a drop.")
    open_after: int = Field(default=2, ge=1, description="Consecutive anomalous points to open an anomaly.")
    close_after: int = Field(default=3, ge=1, description="Consecutive normal points to close it.")


class SeriesState(BaseModel):
    """One metric of one route."""

    values: list[float] = Field(default_factory=list)
    ewma: float | None = None
    streak: int = 0
    normal_streak: int = 0
    open: bool = False


class Bucket(BaseModel):
    """A minute being aggregated."""

    requests: int = 0
    errors: int = 0
    durations: list[float] = Field(default_factory=list)


class AnomalyState(BaseModel):
    """Aggregation buckets and baselines of one target (stored as JSON)."""

    series: dict[str, SeriesState] = Field(default_factory=dict)
    buckets: dict[str, dict[int, Bucket]] = Field(default_factory=dict)  # "service|route" -> minute -> bucket
    closed_until: int = 0  # minutes before this are closed

    # ---- aggregation -------------------------------------------------------------------------

    def add_samples(self, samples: Iterable[RouteSample]) -> None:
        """Count served requests into their minute, per route and per service."""
        for sample in samples:
            minute = int(sample.timestamp.timestamp()) // BUCKET_S
            if minute < self.closed_until:
                continue  # too late for a closed minute: it was judged already
            for route in (sample.route, "*"):
                key = f"{sample.service}|{route}"
                if key not in self.buckets and len(self.buckets) >= MAX_SERIES:
                    continue
                bucket = self.buckets.setdefault(key, {}).setdefault(minute, Bucket())
                bucket.requests += 1
                bucket.errors += int(sample.is_error)
                if sample.duration_ms is not None and len(bucket.durations) < MAX_DURATIONS:
                    bucket.durations.append(sample.duration_ms)

    def close(self, *, now: datetime, lag_s: int = 30) -> list[RouteMetrics]:
        """Close every minute that ended ``lag_s`` before ``now``; quiet minutes of busy series count as zero."""
        until = (int(now.timestamp()) - lag_s) // BUCKET_S
        if self.closed_until == 0:
            starts = [m for minutes in self.buckets.values() for m in minutes]
            self.closed_until = min(starts) if starts else until
        metrics: list[RouteMetrics] = []
        # Old samples (a replayed log, a clock far behind) are not worth a minute-by-minute walk.
        self.closed_until = max(self.closed_until, until - MAX_CLOSE_MINUTES)
        for minute in range(self.closed_until, until):
            for key in list(self.buckets):
                bucket = self.buckets[key].pop(minute, None)
                service, route = key.split("|", 1)
                if bucket is None:
                    traffic = self.series.get(f"{key}|traffic")
                    if traffic is None or not traffic.values:
                        continue
                    bucket = Bucket()
                durations = sorted(bucket.durations)
                p95 = durations[min(len(durations) - 1, int(0.95 * len(durations)))] if durations else None
                at = datetime.fromtimestamp(minute * BUCKET_S, tz=UTC)
                metrics.append(RouteMetrics(service, route, at, bucket.requests, bucket.errors, p95))
        self.closed_until = max(self.closed_until, until)
        for key in list(self.buckets):  # buckets of minutes skipped above
            self.buckets[key] = {m: b for m, b in self.buckets[key].items() if m >= self.closed_until}
        return metrics

    # ---- judging -----------------------------------------------------------------------------

    def judge(self, metrics: Iterable[RouteMetrics], *, baselines: Baselines) -> list[AnomalyFinding]:
        """Compare each point with its series' baseline; return the points of open anomalies."""
        findings: list[AnomalyFinding] = []
        for point in metrics:
            key = f"{point.service}|{point.route}"
            rate = point.errors / point.requests if point.requests > 0 else None
            busy = point.requests >= baselines.min_requests
            if busy and rate is not None:
                findings += self._step(f"{key}|error_rate", point, metric="error_rate", value=rate, b=baselines, rate=rate)
            if busy and point.p95_ms is not None:
                findings += self._step(f"{key}|p95", point, metric="p95_latency", value=point.p95_ms, b=baselines, rate=rate)
            findings += self._step(f"{key}|traffic", point, metric="traffic_drop", value=point.requests, b=baselines, rate=rate)
        return findings

    def _step(
        self, key: str, point: RouteMetrics, *, metric: str, value: float, b: Baselines, rate: float | None
    ) -> list[AnomalyFinding]:
        if key not in self.series and len(self.series) >= MAX_SERIES * 3:
            return []
        state = self.series.setdefault(key, SeriesState())
        anomalous = False
        baseline = 0.0
        bound: float | None = None
        if len(state.values) >= b.warmup:
            median = statistics.median(state.values)
            mad = statistics.median(abs(v - median) for v in state.values) * 1.4826
            if metric == "error_rate":
                baseline = median
                bound = median + max(b.mad_k * mad, b.error_rate_floor)
                anomalous = value > bound and point.errors >= b.min_errors
            elif metric == "p95_latency":
                baseline = max(median, state.ewma or median)
                bound = max(baseline * b.latency_factor, baseline + max(b.latency_floor_ms, b.mad_k * mad))
                anomalous = value > baseline * b.latency_factor and value - baseline > max(b.latency_floor_ms, b.mad_k * mad)
            else:
                baseline = median
                bound = min(median * b.drop_ratio, median - b.mad_k * mad)
                anomalous = median >= b.min_requests and value < median * b.drop_ratio and median - value > b.mad_k * mad
        if anomalous:
            state.streak += 1
            state.normal_streak = 0
            if state.streak >= b.open_after:
                state.open = True
        else:
            state.streak = 0
            state.normal_streak += 1
            if state.open and state.normal_streak >= b.close_after:
                state.open = False
            state.values = [*state.values, value][-b.history :]
            state.ewma = value if state.ewma is None else 0.8 * state.ewma + 0.2 * value
        if anomalous and state.open:
            return [AnomalyFinding(point.service, point.route, metric, point.at, value, baseline, rate, bound)]
        return []

    def prune(self, *, now: datetime, keep: timedelta = timedelta(hours=2)) -> None:
        """Forget buckets far in the past (a clock jump, a replay)."""
        floor = int((now - keep).timestamp()) // BUCKET_S
        for key in list(self.buckets):
            self.buckets[key] = {m: b for m, b in self.buckets[key].items() if m >= floor}
            if not self.buckets[key] and key not in {k.rsplit("|", 1)[0] for k in self.series}:
                del self.buckets[key]
