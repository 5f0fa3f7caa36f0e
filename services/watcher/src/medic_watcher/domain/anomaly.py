"""Anomaly detection on per-route and per-service traffic, error rate and p95 latency.

Samples (served requests) are aggregated into one-minute buckets per route and per service
(``*``; the bucket length is a setting, so a benchmark can compress time); Prometheus gives the
same :class:`RouteMetrics` directly. A bucket closes once every polled source that feeds samples
has read past it (its watermark), so a source polled every five minutes is not cut short by one
polled every few seconds. Each series is judged by its
own :class:`~.series.SeriesDetector` (the detector ``medic bench anomaly`` scores: robust
median/MAD expectation, rarity check, lasting shifts accepted as the new normal), and a point
the detector finds outside its range is an anomaly only if it also matters: enough volume, in
the harmful direction, beyond an absolute margin, for ``open_after`` consecutive points
(hysteresis; it closes after ``close_after`` normal ones). Anomalous points never enter the
baseline, so an incident cannot teach the detector it is normal. Detected: error-rate spikes,
sudden traffic drops and surges, and p95 latency above twice the expected value. Every finding carries the
detector's evidence: expected value, tolerated range and observed value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, SerializerFunctionWrapHandler, model_serializer

from medic_contracts import RequestContext

from .observed import ObservedEvent, RouteSample
from .series import SeriesDetector, SeriesVerdict
from .severity import classify
from .tracker import Occurrence

__all__ = ["AnomalyFinding", "AnomalyState", "Baselines", "RouteMetrics", "anomaly_occurrence", "material_bound"]

BUCKET_S = 60
MAX_SERIES = 2_000
MAX_DURATIONS = 500
MAX_CLOSE_MINUTES = 180
#: How many buckets a polled source that stopped answering may hold back closing (then it is ignored).
MAX_HOLD_BUCKETS = 15


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
    metric: str  # error_rate | p95_latency | traffic_drop | traffic_spike
    at: datetime
    value: float
    baseline: float
    error_rate: float | None
    bound: float | None = None  # the edge of the tolerated range the value crossed (the evidence)
    window_s: int = BUCKET_S  # the judged point covers [at, at + window_s)
    low: float | None = None  # the detector's tolerated range at this point
    high: float | None = None
    deviation: float | None = None  # robust z of the observed value

    @property
    def description(self) -> str:
        """One line for the issue title."""
        where = "all routes" if self.route == "*" else self.route
        if self.metric == "error_rate":
            return f"error rate spike on {where}: {self.value:.1%} vs baseline {self.baseline:.1%}"
        if self.metric == "p95_latency":
            return f"p95 latency regression on {where}: {self.value:.0f} ms vs baseline {self.baseline:.0f} ms"
        per = "min" if self.window_s == 60 else f"{self.window_s}s"
        kind = "spike" if self.metric == "traffic_spike" else "drop"
        return f"traffic {kind} on {where}: {self.value:.0f}/{per} vs baseline {self.baseline:.0f}/{per}"


class Baselines(BaseModel):
    """Detection thresholds (the defaults keep false positives rare on noisy traffic)."""

    warmup: int = Field(
        default=10, ge=3, description="Normal points before a series has a level, and as many again for its spread."
    )
    history: int = Field(default=60, ge=5, description="Normal points (and residuals) kept per series.")
    recent: int = Field(default=120, ge=10, description="Recent residuals (anomalous ones too) that set what is rare.")
    accept_after: int = Field(
        default=60, ge=2, description="Consecutive anomalous points after which a lasting shift is the new normal."
    )
    min_requests: float = Field(default=20, ge=1, description="Minimum requests in a minute to judge rates and latency.")
    mad_k: float = Field(default=6.0, gt=0, description="How many robust deviations from the expected value is anomalous.")
    error_rate_floor: float = Field(default=0.05, ge=0, le=1, description="Error rate must also exceed baseline by this.")
    min_errors: float = Field(default=5, ge=1, description="Errors in a minute needed for an error-rate anomaly.")
    latency_factor: float = Field(default=2.0, gt=1, description="p95 above this times the expected value is a regression.")
    latency_floor_ms: float = Field(default=50, ge=0, description="And at least this many ms above it.")
    drop_ratio: float = Field(default=0.3, gt=0, lt=1, description="Traffic below this share of the expected is a drop.")
    spike_ratio: float = Field(default=3.0, gt=1, description="Traffic above this multiple of the expected is a spike.")
    open_after: int = Field(default=2, ge=1, description="Consecutive anomalous points to open an anomaly.")
    close_after: int = Field(default=3, ge=1, description="Consecutive normal points to close it.")

    def detector(self) -> SeriesDetector:
        """A fresh detector for one series, with these settings (minute series: no daily season)."""
        return SeriesDetector(
            threshold=self.mad_k,
            warmup=self.warmup,
            history=self.history,
            residuals=self.history,
            recent=self.recent,
            accept_after=self.accept_after,
            seasonal=False,
        )


class SeriesState(BaseModel):
    """One metric of one route: what its detector learnt, and the open/close hysteresis."""

    detector: dict[str, Any] = Field(default_factory=dict)  # SeriesDetector.export_state()
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

    bucket_s: int = Field(default=BUCKET_S, ge=1, description="Length of one judged point (a minute unless time is compressed).")
    series: dict[str, SeriesState] = Field(default_factory=dict)
    buckets: dict[str, dict[int, Bucket]] = Field(default_factory=dict)  # "service|route" -> bucket index -> bucket
    closed_until: int = 0  # bucket indexes before this are closed
    # Polled sources that feed samples -> when they last read (epoch s): no bucket closes before every one has read past it.
    watermarks: dict[str, float] = Field(default_factory=dict)
    _detectors: dict[str, SeriesDetector] = PrivateAttr(default_factory=dict)  # live, restored lazily from ``series``

    # ---- aggregation -------------------------------------------------------------------------

    def add_samples(self, samples: Iterable[RouteSample], *, source: str | None = None, now: datetime | None = None) -> None:
        """Count served requests into their bucket, per route and per service.

        ``source`` (a polled source, read up to ``now``) becomes a watermark once it has fed samples:
        later closes wait for it. Pushed samples arrive as they happen and need none.
        """
        samples = list(samples)
        if source is not None and now is not None and (samples or source in self.watermarks):
            self.watermarks[source] = now.timestamp()
        for sample in samples:
            minute = int(sample.timestamp.timestamp()) // self.bucket_s
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

    def close(self, *, now: datetime, lag_s: float | None = None) -> list[RouteMetrics]:
        """Close every bucket that ended ``lag_s`` (default half a bucket) before ``now`` and before every
        polled source's last read; quiet buckets of busy series count as zero."""
        lag = self.bucket_s / 2 if lag_s is None else lag_s
        horizon = now.timestamp()
        for source, read_at in list(self.watermarks.items()):
            if horizon - read_at > MAX_HOLD_BUCKETS * self.bucket_s:
                del self.watermarks[source]  # stopped answering: it no longer holds the others back
        horizon = min([horizon, *self.watermarks.values()])
        until = int(horizon - lag) // self.bucket_s
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
                    if f"{key}|traffic" not in self.series:
                        continue  # a series never seen busy has no quiet minutes
                    bucket = Bucket()
                durations = sorted(bucket.durations)
                p95 = durations[min(len(durations) - 1, int(0.95 * len(durations)))] if durations else None
                at = datetime.fromtimestamp(minute * self.bucket_s, tz=UTC)
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
            findings += self._step(f"{key}|traffic", point, metric="traffic", value=point.requests, b=baselines, rate=rate)
        return findings

    def _step(
        self, key: str, point: RouteMetrics, *, metric: str, value: float, b: Baselines, rate: float | None
    ) -> list[AnomalyFinding]:
        if key not in self.series and len(self.series) >= MAX_SERIES * 3:
            return []
        state = self.series.setdefault(key, SeriesState())
        detector = self._detectors.get(key)
        if detector is None:
            detector = self._detectors[key] = b.detector()
            if state.detector:
                detector.load_state(state.detector)
        verdict = detector.step(point.at, value)
        bound = material_bound(metric, verdict, point, b) if verdict.anomalous else None
        anomalous = bound is not None
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
        if anomalous and state.open:
            assert verdict.expected is not None
            if metric == "traffic":
                metric = "traffic_spike" if value > verdict.expected else "traffic_drop"
            return [
                AnomalyFinding(
                    point.service, point.route, metric, point.at, value, verdict.expected, rate, bound,
                    window_s=self.bucket_s, low=verdict.low, high=verdict.high, deviation=verdict.deviation,
                )
            ]  # fmt: skip
        return []

    @model_serializer(mode="wrap")
    def _with_detectors(self, handler: SerializerFunctionWrapHandler) -> Any:
        # The live detectors hold the newest state; write it into the series before dumping.
        for key, detector in self._detectors.items():
            if key in self.series:
                self.series[key].detector = detector.export_state()
        return handler(self)

    def prune(self, *, now: datetime, keep: timedelta = timedelta(hours=2)) -> None:
        """Forget buckets far in the past (a clock jump, a replay)."""
        floor = int((now - keep).timestamp()) // self.bucket_s
        for key in list(self.buckets):
            self.buckets[key] = {m: b for m, b in self.buckets[key].items() if m >= floor}
            if not self.buckets[key] and key not in {k.rsplit("|", 1)[0] for k in self.series}:
                del self.buckets[key]


def material_bound(metric: str, verdict: SeriesVerdict, point: RouteMetrics, b: Baselines) -> float | None:
    """The edge a point the detector found anomalous crossed, if the deviation matters; ``None`` if it does not.

    The detector is two-sided and scale-free; an incident is one direction with enough volume and
    an absolute margin (a latency dip or a 1% error rate on an idle route is no incident). Traffic
    counts both ways: a drop below ``drop_ratio`` or a surge above ``spike_ratio`` times the expected.
    """
    expected, low, high, value = verdict.expected, verdict.low, verdict.high, verdict.observed
    if expected is None or low is None or high is None:
        return None
    if metric == "error_rate":
        edge = max(high, expected + b.error_rate_floor)
        return edge if value > edge and point.errors >= b.min_errors else None
    if metric == "p95_latency":
        edge = max(high, expected * b.latency_factor, expected + b.latency_floor_ms)
        return edge if value > edge else None
    if expected < b.min_requests:
        return None
    if value > expected:
        edge = max(high, expected * b.spike_ratio)
        return edge if value > edge else None
    edge = min(low, expected * b.drop_ratio)
    return edge if value < edge else None


def anomaly_occurrence(finding: AnomalyFinding, *, environment: str) -> Occurrence:
    """An anomaly as an issue occurrence (one issue per metric and route)."""
    event = ObservedEvent(
        source="anomaly",
        service=finding.service,
        timestamp=finding.at,
        level="error",
        message=finding.description,
        request=RequestContext(route=None if finding.route == "*" else finding.route),
        environment=environment,
        tags={
            "medic.anomaly": "true",
            "medic.metric": finding.metric,
            "value": f"{finding.value:.4g}",
            "baseline": f"{finding.baseline:.4g}",
            # The evidence: the judged window and the edge of the expected range the value crossed.
            "medic.anomaly.window_start": finding.at.isoformat(),
            "medic.anomaly.window_end": (finding.at + timedelta(seconds=finding.window_s)).isoformat(),
            **({"medic.anomaly.bound": f"{finding.bound:.4g}"} if finding.bound is not None else {}),
            # The detector's own evidence: what it expected, the range it tolerated, what it saw.
            "medic.anomaly.observed": f"{finding.value:.4g}",
            "medic.anomaly.expected": f"{finding.baseline:.4g}",
            **({"medic.anomaly.low": f"{finding.low:.4g}"} if finding.low is not None else {}),
            **({"medic.anomaly.high": f"{finding.high:.4g}"} if finding.high is not None else {}),
            **({"medic.anomaly.deviation": f"{finding.deviation:.3g}"} if finding.deviation is not None else {}),
        },
    )
    fingerprint = hashlib.sha256(f"anomaly\x1f{finding.metric}\x1f{finding.route}".encode()).hexdigest()[:16]
    return Occurrence(
        event=event, fingerprint=fingerprint, issue_type=classify(event), title=finding.description, error_rate=finding.error_rate
    )
