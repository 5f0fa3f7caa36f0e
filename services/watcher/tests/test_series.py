"""The streaming series detector: daily cycles are normal, spikes and drops are not, lasting shifts become normal."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from medic_watcher.domain.series import SeriesDetector, SeriesVerdict

START = datetime(2026, 1, 5, tzinfo=UTC)
STEP = timedelta(minutes=5)
DAY = 288  # points per day


def daily(i: int, rng: random.Random) -> float:
    return 100 + 40 * math.sin(2 * math.pi * i / DAY) + rng.gauss(0, 2)


def stream(values: list[float]) -> list[SeriesVerdict]:
    detector = SeriesDetector()
    return [detector.step(START + i * STEP, v) for i, v in enumerate(values)]


def test_a_daily_cycle_with_noise_raises_nothing_over_a_week() -> None:
    rng = random.Random(1)
    verdicts = stream([daily(i, rng) for i in range(7 * DAY)])
    assert [v.at for v in verdicts if v.opens] == []


def test_a_spike_opens_one_anomaly_at_once_with_the_expected_range_as_evidence() -> None:
    rng = random.Random(2)
    values = [daily(i, rng) for i in range(6 * DAY)]
    spike = 5 * DAY + 40
    for i in range(spike, spike + 6):
        values[i] += 150
    verdicts = stream(values)
    opened = [i for i, v in enumerate(verdicts) if v.opens]
    assert opened == [spike]
    evidence = verdicts[spike]
    assert evidence.expected is not None and evidence.low is not None and evidence.high is not None
    assert evidence.low <= evidence.expected <= evidence.high < evidence.observed
    assert evidence.deviation >= 7.0 and evidence.score >= 0.5


def test_the_same_time_of_day_is_what_a_seasonal_series_is_compared_with() -> None:
    # The night's low arriving at noon is within the series' range but not at that time of day.
    rng = random.Random(3)
    values = [daily(i, rng) for i in range(6 * DAY)]
    noon = 5 * DAY + DAY // 4  # the sine's peak
    for i in range(noon, noon + 24):
        values[i] = 60 + rng.gauss(0, 2)
    verdicts = stream(values)
    assert [i for i, v in enumerate(verdicts) if v.opens] == [noon]
    assert verdicts[noon].model == "seasonal"


def test_a_lasting_level_shift_is_reported_once_and_then_becomes_the_new_normal() -> None:
    rng = random.Random(4)
    values = [50 + rng.gauss(0, 1) for _ in range(600)] + [80 + rng.gauss(0, 1) for _ in range(1_200)]
    verdicts = stream(values)
    assert [i for i, v in enumerate(verdicts) if v.opens] == [600]
    assert not any(v.anomalous for v in verdicts[900:])


def test_recurring_excursions_are_the_series_normal() -> None:
    rng = random.Random(5)
    # A batch job pushes the value to 100 for a point every half hour, for days.
    values = [(100.0 if i % 6 == 0 else 30 + rng.gauss(0, 1)) for i in range(3 * DAY)]
    verdicts = stream(values)
    assert sum(v.opens for v in verdicts[DAY:]) == 0


def test_a_detector_restored_from_its_json_state_judges_on_exactly_as_one_that_never_stopped() -> None:
    import json

    rng = random.Random(6)
    values = [daily(i, rng) for i in range(5 * DAY)]
    for i in range(4 * DAY + 10, 4 * DAY + 16):
        values[i] += 150  # an incident open while the process restarts
    cut = 4 * DAY + 12
    whole = stream(values)
    first = SeriesDetector()
    for i, v in enumerate(values[:cut]):
        first.step(START + i * STEP, v)
    restored = SeriesDetector()
    restored.load_state(json.loads(json.dumps(first.export_state())))
    resumed = [restored.step(START + i * STEP, v) for i, v in enumerate(values[cut:], start=cut)]
    assert resumed == whole[cut:]
    assert any(v.anomalous for v in resumed) and sum(v.opens for v in whole) == 1
