"""``medic bench anomaly`` on a few real NAB series: the design's shape, streamed without look-ahead."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from medic_lab.anomaly import load_corpus, run_detector

from .conftest import shared_data

SERIES = ("artificialWithAnomaly/art_daily_jumpsup.csv", "artificialNoAnomaly/art_daily_small_noise.csv")


def _corpus(tmp: Path) -> Path:
    source = shared_data() / "nab"
    data = tmp / "nab"
    windows = json.loads((source / "combined_windows.json").read_text(encoding="utf-8"))
    for name in SERIES:
        (data / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / "data" / name, data / "data" / name)
    (data / "combined_windows.json").write_text(json.dumps({n: windows[n] for n in SERIES}), encoding="utf-8")
    shutil.copy(source / "profiles.json", data / "profiles.json")
    return data


def test_a_detectors_judgement_of_a_point_never_depends_on_later_points(tmp_path: Path) -> None:
    series, _ = load_corpus(_corpus(tmp_path))
    whole = series[0]
    cut = 2_500
    head = type(whole)(whole.name, whole.timestamps[:cut], whole.values[:cut], ())
    for kind in ("medic", "windowed_gaussian", "ewma_zscore"):
        scores, detections = run_detector(kind, whole)
        head_scores, head_detections = run_detector(kind, head)
        assert scores[:cut] == head_scores
        assert [d for d in detections if d < cut] == head_detections


def test_bench_anomaly_prints_nab_scores_per_profile_for_medic_and_both_baselines(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "medic", "bench", "anomaly", "--data", str(_corpus(tmp_path)), "--json"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert result["series"] == 2 and result["windows"] == 1
    profiles = {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert set(result["detectors"]) == {"medic", "windowed_gaussian", "ewma_zscore"}
    for detector in result["detectors"].values():
        assert set(detector["as_configured"]) == profiles and set(detector["nab_optimised"]) == profiles
        assert all(score <= 100 for score in detector["as_configured"].values())
    # The jump is found near its window's start and the quiet series raises nothing.
    assert result["detectors"]["medic"]["as_configured"]["standard"] > 50
    # Held out: each half scored with the thresholds chosen on the other half, for every detector.
    held = result["held_out"]
    assert held["halves"] == [[SERIES[1]], [SERIES[0]]]
    for detector in held["detectors"].values():
        assert set(detector) == profiles
        assert all(len(p["halves"]) == len(p["thresholds"]) == 2 for p in detector.values())


def test_held_out_halves_alternate_within_each_category(tmp_path: Path) -> None:
    from medic_lab.anomaly_heldout import split_halves

    series, _ = load_corpus(_corpus(tmp_path))
    first, second = split_halves(series)
    assert first == ["artificialNoAnomaly/art_daily_small_noise.csv"]
    assert second == ["artificialWithAnomaly/art_daily_jumpsup.csv"]
