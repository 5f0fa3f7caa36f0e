"""NAB scoring on tiny hand-computed cases (Lavin & Ahmad 2015 definitions)."""

from __future__ import annotations

import math

import pytest

from medic_lab.nab import Profile, load_profiles, normalised_score, probation_length, raw_score, scaled_sigmoid

from .conftest import shared_data

STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
LOW_FN = Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
# 100 points: probation is the first 15; one window of 10 points, indices 50..59.
POINTS, WINDOW = 100, [(50, 59)]


def test_scaled_sigmoid_is_one_minus_at_the_window_start_zero_at_its_end_and_minus_one_far_past_it() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1) == pytest.approx(0.986614, abs=1e-6)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0


def test_a_detection_at_the_first_point_of_a_window_scores_the_full_true_positive_weight() -> None:
    assert raw_score(points=POINTS, windows=WINDOW, detections=[50], profile=STANDARD) == pytest.approx(1.0)


def test_a_detection_at_the_last_point_of_a_window_scores_little() -> None:
    # y = -(59 - 59 + 1) / 10 = -0.1: (2 / (1 + e^-0.5) - 1) / 0.986614 = 0.244919 / 0.986614 = 0.248242
    assert raw_score(points=POINTS, windows=WINDOW, detections=[59], profile=STANDARD) == pytest.approx(0.248242, abs=1e-5)


def test_only_the_first_detection_in_a_window_counts() -> None:
    assert raw_score(points=POINTS, windows=WINDOW, detections=[50, 52, 59], profile=STANDARD) == pytest.approx(1.0)


def test_false_positives_cost_the_fp_weight_far_from_windows_and_less_just_after_one() -> None:
    # Before any window: -0.11. One point after the window: y = 1/10, 0.11 * (2 / (1 + e^0.5) - 1) = -0.026941;
    # the window itself is missed: -1.
    assert raw_score(points=POINTS, windows=WINDOW, detections=[20], profile=STANDARD) == pytest.approx(-1.11)
    assert raw_score(points=POINTS, windows=WINDOW, detections=[60], profile=STANDARD) == pytest.approx(-1.026941, abs=1e-6)
    # Three widths and more past the window: the full FP cost.
    assert raw_score(points=POINTS, windows=WINDOW, detections=[95], profile=STANDARD) == pytest.approx(-1.11)


def test_a_missed_window_costs_the_fn_weight_of_the_profile() -> None:
    assert raw_score(points=POINTS, windows=WINDOW, detections=[], profile=STANDARD) == -1.0
    assert raw_score(points=POINTS, windows=WINDOW, detections=[], profile=LOW_FN) == -2.0


def test_detections_in_the_probationary_period_are_not_scored() -> None:
    assert probation_length(100) == 15 and probation_length(10_000) == 750
    assert raw_score(points=POINTS, windows=[], detections=[3, 14], profile=STANDARD) == 0.0
    assert raw_score(points=POINTS, windows=[], detections=[15], profile=STANDARD) == pytest.approx(-0.11)


def test_normalised_score_is_zero_for_the_null_detector_and_hundred_for_the_perfect_one() -> None:
    files = {"a.csv": (POINTS, WINDOW), "b.csv": (POINTS, [(30, 39), (70, 79)]), "quiet.csv": (POINTS, [])}
    assert normalised_score(files=files, detections={}, profile=STANDARD) == 0.0
    perfect = {"a.csv": [50], "b.csv": [30, 70]}
    assert normalised_score(files=files, detections=perfect, profile=STANDARD) == pytest.approx(100.0)
    # One of three windows found at its start, plus one false positive in the quiet file:
    # raw = 1 - 2 - 0.11 = -1.11; null = -3; perfect = 3 -> 100 * 1.89 / 6 = 31.5
    half = {"a.csv": [50], "quiet.csv": [40]}
    assert normalised_score(files=files, detections=half, profile=STANDARD) == pytest.approx(31.5)


def test_the_shared_profiles_file_holds_nabs_three_cost_matrices() -> None:
    profiles = {p.name: p for p in load_profiles(shared_data() / "nab" / "profiles.json")}
    assert profiles["standard"] == Profile("standard", tp=1.0, fp=0.11, fn=1.0)
    assert profiles["reward_low_FP_rate"].fp == 0.22
    assert profiles["reward_low_FN_rate"].fn == 2.0
