"""Canary analysis: each rollback trigger, Flagger-style thresholds, missing data fails."""

from __future__ import annotations

import pytest

from medic_releaser.domain.analysis import (
    Baseline,
    CheckName,
    Thresholds,
    WatchState,
    baseline_gaps,
    final_verdicts,
    record_sample,
)
from medic_releaser.domain.samples import Observation, Scrape, observe_metrics

ALL = {CheckName.ERROR_RATE, CheckName.LATENCY, CheckName.HEALTH, CheckName.NEW_FINGERPRINTS, CheckName.RECURRENCE}
BASE = Baseline(error_rate=0.05, latency_ms=20.0, fingerprints=["known"])
LIMITS = Thresholds(threshold=3)


def healthy(**changes: object) -> Observation:
    values: dict[str, object] = {
        "error_rate": 0.05, "latency_ms": 20.0, "requests": 100.0, "errors": 5.0, "health": {"http://x/health": True},
        "fingerprints": ["known"], "recurrences": 0,
    }  # fmt: skip
    values.update(changes)
    return Observation.model_validate(values)


@pytest.mark.parametrize(
    ("bad", "check"),
    [
        ({"error_rate": 0.061}, CheckName.ERROR_RATE),  # +22 % over a 5 % baseline
        ({"latency_ms": 41.0}, CheckName.LATENCY),  # > 2 × 20 ms
        ({"health": {"http://x/health": False}}, CheckName.HEALTH),
        ({"fingerprints": ["known", "brand-new"]}, CheckName.NEW_FINGERPRINTS),
        ({"error_rate": None, "latency_ms": None, "missing": ["metrics"]}, CheckName.ERROR_RATE),
        ({"fingerprints": None, "recurrences": None, "missing": ["logfile"]}, CheckName.NEW_FINGERPRINTS),
    ],
)
def test_each_trigger_fails_its_check_after_threshold_consecutive_bad_samples(bad: dict[str, object], check: str) -> None:
    state = WatchState()
    assert record_sample(state, healthy(**bad), BASE, LIMITS, ALL) == []
    assert record_sample(state, healthy(**bad), BASE, LIMITS, ALL) == []
    failed = record_sample(state, healthy(**bad), BASE, LIMITS, ALL)
    assert check in {v.name for v in failed}
    assert all(not v.passed for v in failed)


def test_a_rise_of_twenty_percent_or_less_is_not_a_rollback() -> None:
    state = WatchState()
    for _ in range(5):
        assert record_sample(state, healthy(error_rate=0.06, latency_ms=40.0), BASE, LIMITS, ALL) == []
    assert all(v.passed for v in final_verdicts(state, ALL))


def test_a_good_sample_resets_the_consecutive_count() -> None:
    state = WatchState()
    bad = healthy(error_rate=0.5)
    for _ in range(4):
        assert record_sample(state, bad, BASE, LIMITS, ALL) == []
        assert record_sample(state, bad, BASE, LIMITS, ALL) == []
        assert record_sample(state, healthy(), BASE, LIMITS, ALL) == []
    verdicts = {v.name: v for v in final_verdicts(state, ALL)}
    assert verdicts[CheckName.ERROR_RATE].passed


def test_recurrence_of_the_fixed_error_fails_at_once() -> None:
    failed = record_sample(WatchState(), healthy(recurrences=2), BASE, LIMITS, ALL)
    assert [v.name for v in failed] == [CheckName.RECURRENCE]


def test_zero_baseline_uses_the_floor_and_a_missing_baseline_latency_fails_the_check() -> None:
    base = Baseline(error_rate=0.0, fingerprints=["known"])
    state = WatchState()
    failed = []
    for _ in range(3):
        failed = record_sample(state, healthy(error_rate=0.005, latency_ms=500.0), base, LIMITS, ALL)
    # The error rate stays under the floor (passes); a latency with nothing to compare with is missing data.
    assert [v.name for v in failed] == [CheckName.LATENCY] and "no baseline latency" in failed[0].detail
    assert record_sample(WatchState(), healthy(error_rate=0.02), base, Thresholds(threshold=1), ALL)


def test_a_baseline_the_metrics_source_never_answered_blocks_promotion_with_a_clear_reason() -> None:
    missing = Baseline(fingerprints=["known"], missing=["metrics"])
    assert {v.name for v in baseline_gaps(missing, ALL)} == {CheckName.ERROR_RATE, CheckName.LATENCY}
    assert baseline_gaps(BASE, ALL) == []
    state = WatchState()
    for _ in range(5):  # a perfectly healthy stage: only the missing baseline speaks against it
        record_sample(state, healthy(error_rate=0.0, latency_ms=1.0), missing, LIMITS, ALL)
    verdicts = {v.name: v for v in final_verdicts(state, ALL)}
    for name in (CheckName.ERROR_RATE, CheckName.LATENCY):
        assert not verdicts[name].passed
        assert "no baseline" in verdicts[name].detail and "missing: metrics" in verdicts[name].detail
    assert verdicts[CheckName.HEALTH].passed and verdicts[CheckName.NEW_FINGERPRINTS].passed


def test_a_bad_look_at_unobserved_time_fails_at_once_but_missing_data_after_a_gap_waits_for_the_threshold() -> None:
    state = WatchState()
    failed = record_sample(state, healthy(fingerprints=["known", "brand-new"]), BASE, LIMITS, ALL, after_gap=True)
    assert [v.name for v in failed] == [CheckName.NEW_FINGERPRINTS]
    state = WatchState()
    gone = healthy(error_rate=None, latency_ms=None, missing=["metrics"])
    assert record_sample(state, gone, BASE, LIMITS, ALL, after_gap=True) == []
    # Without a gap the same new fingerprint needs threshold consecutive samples.
    assert record_sample(WatchState(), healthy(fingerprints=["known", "brand-new"]), BASE, LIMITS, ALL) == []


def test_idle_intervals_hold_and_a_check_never_judged_fails_for_want_of_data() -> None:
    state = WatchState()
    idle = Observation(idle=True, rps=0.0, health={"h": True}, fingerprints=[], recurrences=0)
    for _ in range(5):
        assert record_sample(state, idle, BASE, LIMITS, ALL) == []
    verdicts = {v.name: v for v in final_verdicts(state, ALL)}
    assert not verdicts[CheckName.ERROR_RATE].passed and "no data" in verdicts[CheckName.ERROR_RATE].detail
    assert verdicts[CheckName.HEALTH].passed


def test_observe_metrics_computes_rates_p95_and_survives_a_counter_reset() -> None:
    before = Scrape(at=0.0, requests=100, errors=0, buckets={"0.01": 100, "0.1": 100, "+Inf": 100})
    after = Scrape(at=10.0, requests=200, errors=10, buckets={"0.01": 100, "0.1": 200, "+Inf": 200})
    obs = observe_metrics(before, after)
    assert obs.error_rate == pytest.approx(0.1)
    assert obs.rps == pytest.approx(10.0)
    assert obs.latency_ms is not None and 10.0 < obs.latency_ms <= 100.0
    restarted = Scrape(at=20.0, requests=40, errors=20, latency_sum=0.4, latency_count=40)
    obs = observe_metrics(after, restarted)
    assert obs.error_rate == pytest.approx(0.5) and obs.latency_ms == pytest.approx(10.0)
    assert observe_metrics(after, after.model_copy(update={"at": 30.0})).idle


def test_a_window_closing_during_a_bad_streak_fails_the_check() -> None:
    state = WatchState()
    record_sample(state, healthy(), BASE, LIMITS, ALL)
    record_sample(state, healthy(error_rate=None, latency_ms=None, missing=["metrics"]), BASE, LIMITS, ALL)
    verdicts = {v.name: v for v in final_verdicts(state, ALL)}
    assert not verdicts[CheckName.ERROR_RATE].passed and "window closed" in verdicts[CheckName.ERROR_RATE].detail
    assert verdicts[CheckName.HEALTH].passed
