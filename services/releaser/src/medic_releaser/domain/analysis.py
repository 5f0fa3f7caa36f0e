"""Canary analysis as pure functions: baseline vs watch window, Flagger-style consecutive failures.

A sample is an :class:`Observation` of the stage over one interval. Each check compares it with the
:class:`Baseline` measured before the deploy; a bad sample increments the check's consecutive
failure count, a good one resets it, and a check fails once the count reaches ``threshold``.
Missing data (a source that does not answer, a metric that is absent, a baseline that could not
be measured) is a bad sample, never a good one. An idle interval (no requests at all) neither
fails nor clears the rate checks. At the end of the window, a check never judged fails for want
of data, and a check still in a bad streak (below threshold) fails too: a rollout is never
promoted on a failing last look.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from medic_contracts import CheckVerdict

from .samples import Observation, Scrape

__all__ = [
    "Baseline",
    "CheckName",
    "Thresholds",
    "WatchState",
    "baseline_gaps",
    "final_verdicts",
    "record_sample",
]


class CheckName:
    """Names of the rollout checks (CheckVerdict.name)."""

    ERROR_RATE = "error_rate"
    LATENCY = "latency"
    HEALTH = "health"
    NEW_FINGERPRINTS = "new_fingerprints"
    RECURRENCE = "fingerprint_recurrence"
    SMOKE = "smoke"


class Baseline(BaseModel):
    """The stage measured before the deploy."""

    error_rate: float | None = None
    latency_ms: float | None = None
    rps: float | None = None
    fingerprints: list[str] = Field(default_factory=list)
    log_offset: int | None = None
    missing: list[str] = Field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """The measured values, for DeploymentResult.metrics_before."""
        values = {"error_rate": self.error_rate, "latency_ms": self.latency_ms, "rps": self.rps}
        return {k: round(v, 6) for k, v in values.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a sample is bad and when a check fails."""

    threshold: int = 3
    error_rate_increase: float = 0.2
    error_rate_floor: float = 0.01
    latency_factor: float = 2.0
    latency_floor_ms: float = 5.0

    def error_rate_limit(self, baseline: float | None) -> float:
        """The highest error rate that is not a rise over ``baseline``."""
        if baseline is None:
            return self.error_rate_floor
        return max(baseline * (1 + self.error_rate_increase), self.error_rate_floor)

    def latency_limit(self, baseline: float | None) -> float | None:
        """The highest latency that is not a rise over ``baseline`` (None: no baseline to compare with)."""
        if baseline is None:
            return None
        return max(baseline * self.latency_factor, self.latency_floor_ms)


class CheckProgress(BaseModel):
    """One check over the watch so far."""

    consecutive: int = 0
    judged: int = 0
    bad: int = 0
    failed: bool = False
    last: CheckVerdict | None = None


class WatchState(BaseModel):
    """The watch's running state, saved after every sample (so a restart resumes it)."""

    samples: int = 0
    previous: Scrape | None = None
    log_offset: int | None = None
    requests: float = 0.0
    errors: float = 0.0
    latency_samples: list[float] = Field(default_factory=list)
    started_at: float | None = None
    checks: dict[str, CheckProgress] = Field(default_factory=dict)
    # Coverage (see domain.watch): time the samples vouch for, and the stretches nobody observed.
    observed_s: float = 0.0
    last_sample_at: float | None = None
    unobserved: list[tuple[float, float]] = Field(default_factory=list)

    def metrics_after(self, now: float) -> dict[str, float]:
        """Metrics over the window so far, for DeploymentResult.metrics_after."""
        out: dict[str, float] = {"samples": float(self.samples), "observed_s": round(self.observed_s, 3)}
        if self.requests > 0:
            out["error_rate"] = round(self.errors / self.requests, 6)
        if self.latency_samples:
            out["latency_ms"] = round(max(self.latency_samples), 3)
        if self.started_at is not None and now > self.started_at:
            out["rps"] = round(self.requests / (now - self.started_at), 3)
        return out

    def failed(self) -> list[CheckVerdict]:
        """The verdicts of the checks that failed."""
        return [p.last for p in self.checks.values() if p.failed and p.last is not None]


def _judge(observation: Observation, baseline: Baseline, limits: Thresholds, active: set[str]) -> dict[str, CheckVerdict | None]:
    """Each active check's verdict on one sample; None when the sample says nothing (idle)."""
    out: dict[str, CheckVerdict | None] = {}
    metrics_missing = "metrics" in observation.missing
    if CheckName.ERROR_RATE in active:
        limit = limits.error_rate_limit(baseline.error_rate)
        if baseline.error_rate is None:
            out[CheckName.ERROR_RATE] = _missing(
                CheckName.ERROR_RATE, f"no baseline error rate{_why_missing(baseline)}", threshold=limit
            )
        elif metrics_missing or (observation.error_rate is None and not observation.idle):
            out[CheckName.ERROR_RATE] = _missing(
                CheckName.ERROR_RATE, "metrics source did not answer", threshold=limit, baseline=baseline.error_rate
            )
        elif observation.error_rate is None:
            out[CheckName.ERROR_RATE] = None
        else:
            rate = observation.error_rate
            out[CheckName.ERROR_RATE] = CheckVerdict(
                name=CheckName.ERROR_RATE,
                passed=rate <= limit,
                value=round(rate, 6),
                threshold=round(limit, 6),
                baseline=baseline.error_rate,
                detail=f"error rate {rate:.2%} vs limit {limit:.2%}"
                + (f" (baseline {baseline.error_rate:.2%})" if baseline.error_rate is not None else " (no baseline)"),
            )
    if CheckName.LATENCY in active:
        limit_ms = limits.latency_limit(baseline.latency_ms)
        if metrics_missing or (observation.latency_ms is None and not observation.idle):
            out[CheckName.LATENCY] = _missing(
                CheckName.LATENCY, "latency unavailable", threshold=limit_ms, baseline=baseline.latency_ms
            )
        elif observation.latency_ms is None:
            out[CheckName.LATENCY] = None
        elif limit_ms is None:
            # Nothing to compare with is not a pass: a latency regression would go unseen.
            out[CheckName.LATENCY] = _missing(
                CheckName.LATENCY,
                f"no baseline latency to compare with{_why_missing(baseline)}",
                value=round(observation.latency_ms, 3),
            )
        else:
            value = observation.latency_ms
            out[CheckName.LATENCY] = CheckVerdict(
                name=CheckName.LATENCY,
                passed=value <= limit_ms,
                value=round(value, 3),
                threshold=round(limit_ms, 3),
                baseline=baseline.latency_ms,
                detail=f"latency {value:.1f} ms vs limit {limit_ms:.1f} ms",
            )
    if CheckName.HEALTH in active:
        failing = sorted(url for url, ok in observation.health.items() if not ok)
        if not observation.health:
            out[CheckName.HEALTH] = _missing(CheckName.HEALTH, "no health check answered")
        else:
            out[CheckName.HEALTH] = CheckVerdict(
                name=CheckName.HEALTH,
                passed=not failing,
                value=float(len(failing)),
                threshold=0.0,
                detail=f"failing: {', '.join(failing)}" if failing else f"{len(observation.health)} health check(s) passing",
            )
    if CheckName.NEW_FINGERPRINTS in active:
        if observation.fingerprints is None:
            out[CheckName.NEW_FINGERPRINTS] = _missing(CheckName.NEW_FINGERPRINTS, "log source unreadable")
        else:
            new = sorted(set(observation.fingerprints) - set(baseline.fingerprints))
            out[CheckName.NEW_FINGERPRINTS] = CheckVerdict(
                name=CheckName.NEW_FINGERPRINTS,
                passed=not new,
                value=float(len(new)),
                threshold=0.0,
                detail=f"new error fingerprints: {', '.join(new[:5])}" if new else "no new error fingerprints",
            )
    if CheckName.RECURRENCE in active:
        if observation.recurrences is None:
            out[CheckName.RECURRENCE] = _missing(CheckName.RECURRENCE, "log source unreadable")
        else:
            out[CheckName.RECURRENCE] = CheckVerdict(
                name=CheckName.RECURRENCE,
                passed=observation.recurrences == 0,
                value=float(observation.recurrences),
                threshold=0.0,
                detail=f"the fixed error recurred {observation.recurrences} time(s)"
                if observation.recurrences
                else "the fixed error did not recur",
            )
    return out


def _missing(
    name: str, why: str, *, value: float | None = None, threshold: float | None = None, baseline: float | None = None
) -> CheckVerdict:
    """A check the sample lacks the data for: missing data counts as failing."""
    return CheckVerdict(
        name=name,
        passed=False,
        value=value,
        threshold=threshold,
        baseline=baseline,
        detail=f"{why}: missing data counts as failing",
    )


def _why_missing(baseline: Baseline) -> str:
    return f" (baseline missing: {', '.join(baseline.missing)})" if baseline.missing else ""


def baseline_gaps(baseline: Baseline, active: set[str]) -> list[CheckVerdict]:
    """Failing verdicts for the active rate checks the baseline has no value for (the watch could not judge them)."""
    gaps: list[CheckVerdict] = []
    if CheckName.ERROR_RATE in active and baseline.error_rate is None:
        gaps.append(CheckVerdict(name=CheckName.ERROR_RATE, passed=False,
                                 detail=f"no baseline error rate{_why_missing(baseline)}"))  # fmt: skip
    if CheckName.LATENCY in active and baseline.latency_ms is None:
        gaps.append(CheckVerdict(name=CheckName.LATENCY, passed=False,
                                 detail=f"no baseline latency{_why_missing(baseline)}"))  # fmt: skip
    return gaps


#: Checks that fail on the first bad sample, whatever ``threshold`` says.
IMMEDIATE = frozenset({CheckName.RECURRENCE})
#: Checks whose sample sums up the whole interval since the previous one (the log, the counters): after
#: unobserved time their one look at it is all there will be, so a measured bad value there fails at once.
INTEGRATING = frozenset({CheckName.ERROR_RATE, CheckName.LATENCY, CheckName.NEW_FINGERPRINTS, CheckName.RECURRENCE})


def record_sample(
    state: WatchState,
    observation: Observation,
    baseline: Baseline,
    limits: Thresholds,
    active: set[str],
    *,
    after_gap: bool = False,
) -> list[CheckVerdict]:
    """Fold one sample into the watch state; return the verdicts of checks that have now failed.

    ``after_gap``: the sample follows time nobody observed (see domain.watch); a measured bad value
    of a check that sums up that time fails the check at once.
    """
    state.samples += 1
    state.requests += observation.requests
    state.errors += observation.errors
    if observation.latency_ms is not None:
        state.latency_samples.append(observation.latency_ms)
    newly_failed: list[CheckVerdict] = []
    for name, verdict in _judge(observation, baseline, limits, active).items():
        progress = state.checks.setdefault(name, CheckProgress())
        if verdict is None:
            continue  # idle: holds the count, neither fails nor clears
        progress.judged += 1
        progress.last = verdict
        if verdict.passed:
            progress.consecutive = 0
            continue
        progress.bad += 1
        progress.consecutive += 1
        # A seen recurrence is certain at once; missing log data waits for the threshold like any check.
        measured = verdict.value is not None  # a value was read (missing data carries none and waits for the threshold)
        certain = (name in IMMEDIATE and bool(verdict.value)) or (after_gap and name in INTEGRATING and measured)
        needed = 1 if certain else limits.threshold
        if progress.consecutive >= needed and not progress.failed:
            progress.failed = True
            detail = f"{verdict.detail} ({progress.consecutive} consecutive bad sample(s), threshold {needed})"
            progress.last = verdict.model_copy(update={"detail": detail})
            newly_failed.append(progress.last)
    return newly_failed


def final_verdicts(state: WatchState, active: set[str]) -> list[CheckVerdict]:
    """Each active check's verdict at the end of the window; a check never judged fails for want of data."""
    verdicts: list[CheckVerdict] = []
    for name in sorted(active):
        progress = state.checks.get(name)
        if progress is None or progress.judged == 0:
            verdicts.append(_missing(name, "no data over the whole window"))
        elif progress.failed:
            verdicts.append(progress.last or CheckVerdict(name=name, passed=False))
        elif progress.consecutive > 0:
            # The window closed during a bad streak (below threshold): never promote on a failing last look.
            last = progress.last
            detail = f"{last.detail if last else 'bad'} (still failing when the window closed)"
            verdicts.append(last.model_copy(update={"detail": detail}) if last else CheckVerdict(name=name, passed=False))
        else:
            last = progress.last
            detail = f"held over {progress.judged} sample(s) ({progress.bad} bad, below threshold)"
            verdicts.append(
                CheckVerdict(
                    name=name,
                    passed=True,
                    value=last.value if last else None,
                    threshold=last.threshold if last else None,
                    baseline=last.baseline if last else None,
                    detail=detail,
                )
            )
    return verdicts
