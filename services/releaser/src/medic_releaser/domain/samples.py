"""One sample of a stage: counters scraped from /metrics, and what the sources said over an interval.

:func:`observe_metrics` turns two scrapes into an :class:`Observation` (error rate, p95 latency,
rate); the adapters fill in the rest (health, log fingerprints, recurrences). The analysis
(:mod:`.analysis`) judges it against the baseline.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Observation", "Scrape", "observe_metrics"]


class Scrape(BaseModel):
    """Cumulative counters read from the app's /metrics at one moment."""

    at: float
    requests: float
    errors: float
    latency_sum: float = 0.0
    latency_count: float = 0.0
    buckets: dict[str, float] = Field(default_factory=dict)  # upper bound ("+Inf" too) → cumulative count


class Observation(BaseModel):
    """What the sources said about one sample interval.

    ``None`` for a rate means the source that should have answered did not (missing data);
    ``idle`` means it answered but the stage served no requests in the interval.
    """

    error_rate: float | None = None
    latency_ms: float | None = None
    rps: float | None = None
    requests: float = 0.0
    errors: float = 0.0
    idle: bool = False
    health: dict[str, bool] = Field(default_factory=dict)
    fingerprints: list[str] | None = None
    recurrences: int | None = None
    missing: list[str] = Field(default_factory=list)


def _quantile(q: float, buckets: dict[str, float]) -> float | None:
    """histogram_quantile over cumulative buckets (upper bound → count), in the buckets' unit."""
    points = sorted(((float(le), count) for le, count in buckets.items()), key=lambda p: p[0])
    if not points or points[-1][1] <= 0:
        return None
    total = points[-1][1]
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in points:
        if count >= rank:
            if bound == float("inf"):
                return prev_bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def observe_metrics(previous: Scrape, current: Scrape) -> Observation:
    """Error rate, latency (p95 from histogram buckets, else the mean) and rate between two scrapes.

    A counter that went down means the app restarted: the current value is the whole delta.
    """
    reset = current.requests < previous.requests
    base = Scrape(at=previous.at, requests=0, errors=0) if reset else previous
    requests = current.requests - base.requests
    errors = max(current.errors - base.errors, 0.0)
    seconds = max(current.at - previous.at, 1e-6)
    if requests <= 0:
        return Observation(idle=True, rps=0.0)
    latency_ms: float | None = None
    if current.buckets:
        deltas = {le: current.buckets[le] - (0.0 if reset else base.buckets.get(le, 0.0)) for le in current.buckets}
        p95 = _quantile(0.95, deltas)
        latency_ms = p95 * 1000 if p95 is not None else None
    if latency_ms is None:
        count = current.latency_count - (0.0 if reset else base.latency_count)
        total = current.latency_sum - (0.0 if reset else base.latency_sum)
        latency_ms = total / count * 1000 if count > 0 else None
    return Observation(
        error_rate=errors / requests,
        latency_ms=latency_ms,
        rps=requests / seconds,
        requests=requests,
        errors=errors,
    )
