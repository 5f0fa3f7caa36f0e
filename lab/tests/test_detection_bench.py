"""``medic bench detection``: injected faults are found and normal traffic raises nothing."""

from __future__ import annotations

import json
import subprocess
import sys

from medic_lab.detection import FAULT_KINDS


def test_bench_detection_finds_every_injected_fault_without_false_positives() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "medic", "bench", "detection", "--hours", "16", "--seed", "3", "--json"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert result["polls"] == 192
    assert result["faults"] >= len(FAULT_KINDS)
    assert result["faults_detected"] == result["faults"]
    assert result["false_positive_polls"] == 0 and result["false_positive_rate"] < 0.01
    assert result["median_minutes_to_detect"] <= 10  # within two polls of a fault's start
