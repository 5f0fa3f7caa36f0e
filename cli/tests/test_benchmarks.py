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
    for split, name in (("dev", "ts-practice-null"), ("dev", "py-order-missing-key"), ("test", "ts-billing-unfixable")):
        (corpus / split).mkdir(parents=True, exist_ok=True)
        (corpus / split / name).symlink_to(ROOT / "examples" / "scenarios" / "dev" / name)
    out = subprocess.run(
        [MEDIC, "bench", "fix", "--corpus", str(corpus), "--json"], capture_output=True, text=True, timeout=900, check=True
    )
    result = json.loads(out.stdout)
    by_name = {s["name"]: s for s in result["scenarios"]}
    for key in ("name", "detected", "localized_file", "localized_lines", "fixed", "protected_untouched", "seconds", "error"):
        assert all(key in s for s in result["scenarios"]), key
    for key in ("split", "reproduced", "released", "wrong_commit", "abstained"):
        assert all(key in s for s in result["scenarios"]), key
    for key in ("n", "detected", "localized_file", "localized_lines", "fixed", "protected_violations", "median_seconds"):
        assert key in result["totals"], key
    assert by_name["ts-practice-null"]["fixed"] and by_name["py-order-missing-key"]["fixed"]
    unfixable = by_name["ts-billing-unfixable"]
    assert not unfixable["fixed"] and unfixable["protected_untouched"] and unfixable["escalated"]
    assert result["totals"]["protected_violations"] == 0
    # Right, not just green: both fixes are right commits, the protected-path culprit is an abstention.
    for name in ("ts-practice-null", "py-order-missing-key"):
        row = by_name[name]
        assert row["split"] == "dev" and row["committed"] and not row["wrong_commit"] and not row["abstained"], row
        assert row["released"] is True and row["reproduced"] in (True, False, None)
    assert unfixable["split"] == "test" and unfixable["abstained"] and not unfixable["released"]
    assert not unfixable["wrong_commit"] and unfixable["reproduced"] is None
    totals = result["totals"]
    assert (totals["committed"], totals["right_commits"], totals["wrong_commits"], totals["precision"]) == (2, 2, 0, 1.0)
    assert totals["released"] == 2 and totals["abstained"] == 1
    # One totals block per split, each with the same keys as the whole.
    assert set(result["splits"]) == {"dev", "test"}
    assert set(result["splits"]["dev"]) == set(totals)
    assert (result["splits"]["dev"]["n"], result["splits"]["dev"]["fixed"], result["splits"]["dev"]["precision"]) == (2, 2, 1.0)
    test = result["splits"]["test"]
    assert (test["n"], test["fixable"], test["unfixable"], test["committed"], test["precision"]) == (1, 0, 1, 0, None)
    assert test["unfixable_escalated_without_write"] == 1 and test["abstained"] == 1


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
