"""The benchmarks run on any corpus or broker and print the DESIGN.md §8 JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEDIC = str(Path(sys.executable).with_name("medic"))

pytestmark = pytest.mark.slow


def test_bench_fix_runs_detection_diagnosis_and_fix_on_scenarios(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("ts-practice-null", "py-order-missing-key", "ts-billing-unfixable"):
        (corpus / name).symlink_to(ROOT / "examples" / "scenarios" / name)
    out = subprocess.run(
        [MEDIC, "bench", "fix", "--corpus", str(corpus), "--json"], capture_output=True, text=True, timeout=900, check=True
    )
    result = json.loads(out.stdout)
    by_name = {s["name"]: s for s in result["scenarios"]}
    for key in ("name", "detected", "localized_file", "localized_lines", "fixed", "protected_untouched", "seconds", "error"):
        assert all(key in s for s in result["scenarios"]), key
    for key in ("n", "detected", "localized_file", "localized_lines", "fixed", "protected_violations", "median_seconds"):
        assert key in result["totals"], key
    assert by_name["ts-practice-null"]["fixed"] and by_name["py-order-missing-key"]["fixed"]
    unfixable = by_name["ts-billing-unfixable"]
    assert not unfixable["fixed"] and unfixable["protected_untouched"] and unfixable["escalated"]
    assert result["totals"]["protected_violations"] == 0


def test_bench_bus_prints_runtime_beside_raw(tmp_path: Path) -> None:
    out = subprocess.run(
        [MEDIC, "bench", "bus", "--json", "--samples", "30", "--events", "600"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result = json.loads(out.stdout)
    for path in ("runtime", "raw"):
        assert set(result[path]) >= {"p50_ms", "p99_ms", "events_per_s"}
        assert result[path]["events_per_s"] > 0 and result[path]["p99_ms"] >= result[path]["p50_ms"] > 0
    # CPU per hop / per event on each path and the machine's load, to read the figures against.
    cpu = result["cpu"]
    assert set(cpu) == {"raw_ms_per_hop", "runtime_ms_per_hop", "raw_us_per_event", "runtime_us_per_event"}
    assert all(value > 0 for value in cpu.values())
    assert result["machine"]["cpus"] >= 1 and result["machine"]["start"]["loadavg_1m"] >= 0
