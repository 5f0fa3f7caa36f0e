"""The grouping benchmark: leave-one-system-out choices, the CLI's --cv shape, synthetic streams for --scale."""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

from medic_lab.grouping import MIN_DISTINCT_GRID, cross_validate
from medic_lab.grouping_checks import scale_point, synthetic_stream
from medic_lab.loghub import find_systems

from .conftest import shared_data

SYSTEMS = ("Apache", "OpenSSH", "HealthApp")


def _copy(tmp: Path, names: tuple[str, ...]) -> Path:
    data = tmp / "loghub"
    for name in names:
        shutil.copytree(shared_data() / "loghub-2k" / name, data / name)
    return data


def test_a_held_out_systems_own_labels_never_choose_its_threshold(tmp_path: Path) -> None:
    data = _copy(tmp_path, SYSTEMS)
    before = {f["held_out"]: f for f in cross_validate(data, with_drain3=False)["held_out"]}
    # Scramble OpenSSH's labels: the threshold its fold uses must not move, its score must.
    path = data / "OpenSSH" / "OpenSSH_2k.log_structured_corrected.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(3)
    for row in rows:
        row["EventId"] = f"E{rng.randrange(40)}"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    after = {f["held_out"]: f for f in cross_validate(data, with_drain3=False)["held_out"]}
    assert after["OpenSSH"]["min_distinct"] == before["OpenSSH"]["min_distinct"]
    assert after["OpenSSH"]["medic"]["ga"] < before["OpenSSH"]["medic"]["ga"]
    assert all(f["min_distinct"] in MIN_DISTINCT_GRID for f in after.values())


def test_bench_grouping_cv_prints_held_out_scores_for_every_system(tmp_path: Path) -> None:
    data = _copy(tmp_path, SYSTEMS[:2])
    out = subprocess.run(
        [sys.executable, "-m", "medic", "bench", "grouping", "--data", str(data), "--cv", "--json"],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert [f["held_out"] for f in result["held_out"]] == ["Apache", "OpenSSH"]
    for fold in result["held_out"]:
        assert set(fold["medic"]) == set(fold["drain3"]) == {"ga", "fga", "pa", "fta"}
    assert {"medic_ga", "medic_fga", "medic_pa", "medic_fta", "drain3_ga"} <= set(result["mean"])
    assert result["labels"] == "corrected"


def test_the_synthetic_stream_refills_every_variable_with_fresh_values() -> None:
    systems = find_systems(shared_data() / "loghub-2k", corrected=True)
    originals = {line for s in systems for line in s.lines}
    lines = [line for batch in synthetic_stream(systems, lines=3_000, chunk=1_000) for line in batch]
    assert len(lines) == 3_000
    assert sum(line in originals for line in lines) < 300  # nearly every line is new (a few events have no variable)


def test_a_scale_point_reports_speed_and_peak_memory() -> None:
    point = scale_point("medic", data=str(shared_data() / "loghub-2k"), lines=5_000)
    assert point["lines"] == 5_000 and point["lines_per_s"] > 0 and point["peak_rss_mb"] > 0


def test_the_shift_check_keeps_the_labels_and_puts_each_inserted_value_where_the_template_says() -> None:
    from medic_lab.grouping_shift import FORMATS, shift_system

    system = next(s for s in find_systems(shared_data() / "loghub-2k", corrected=True) if s.name == "Zookeeper")
    shifted, events = shift_system(system)
    assert shifted.event_ids == system.event_ids
    assert set(events.values()) <= {*FORMATS, "user"} and len(events) >= len(set(system.event_ids)) // 2
    for line, before, event, template in zip(shifted.lines, system.lines, system.event_ids, shifted.templates, strict=True):
        if event not in events:
            assert line == before
            continue
        phrase = "for user <*>" if events[event] == "user" else "at <*>"
        assert phrase in template
        assert line != before and len(line) > len(before)
    # Every line of one event got the same kind of value in the same place: the event's template is still one.
    assert all(len({t for t, e in zip(shifted.templates, shifted.event_ids, strict=True) if e == ev}) == 1 for ev in events)


def test_the_shift_check_scores_the_original_and_the_shifted_lines_with_the_same_parsers(tmp_path: Path) -> None:
    from medic_lab.grouping_shift import shift_check

    shutil.copytree(shared_data() / "loghub-2k" / "Apache", tmp_path / "Apache")
    result = shift_check(tmp_path, with_drain3=False)
    row = result["systems"][0]
    assert row["name"] == "Apache" and row["events_shifted"] >= 1
    assert set(row["medic"]) == {"original", "shifted"}
    assert 0.0 <= result["mean"]["medic_shifted_ga"] <= 1.0
