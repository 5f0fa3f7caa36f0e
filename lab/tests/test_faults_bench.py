"""`medic bench faults` through its own code on the cheapest case: a real investigator process on a real broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medic_lab.faults import CASES, PENDING, FaultResult, report, run_case
from medic_lab.faults.matrix import Case

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

FIELDS = {"survived", "lost_issues", "duplicated_side_effects", "unaudited_side_effects", "recovery_s", "status"}
SIDE_EFFECTS = {"commits", "deploys", "notifications", "audit_rows"}


def test_the_duplicate_delivery_case_runs_real_processes_and_reports_every_field(tmp_path: Path) -> None:
    result = report(["issue_detected_delivered_3_times"], keep=tmp_path)
    (fault,) = result["faults"]
    assert set(fault) >= FIELDS
    assert set(fault["duplicated_side_effects"]) >= SIDE_EFFECTS
    assert fault["status"] == "measured", fault["detail"]
    assert fault["observed"]["delivered"] == 3
    assert fault["observed"]["diagnoses"] == 1, fault
    assert fault["lost_issues"] == 0 and fault["unaudited_side_effects"] == 0
    assert fault["survived"] is True
    assert fault["recovery_s"] is not None and fault["recovery_s"] >= 0
    assert result["summary"]["survived"] == 1 and result["summary"]["all_survived"] is True
    # The investigator really ran: its log is in the case's scratch directory.
    assert (Path(fault["observed"]["workdir"]) / "investigator.log").stat().st_size > 0


def test_a_case_whose_checks_fail_or_whose_setup_breaks_is_never_survived() -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("setup broke")

    def duplicated(_b: object, _root: Path, result: FaultResult) -> None:
        result.checks["held"] = True
        result.duplicate("commits", 1)

    errored = run_case(Case("broken", "fault", "expected", broken))
    assert errored.status == "error" and not errored.survived and "setup broke" in errored.detail
    doubled = run_case(Case("doubled", "fault", "expected", duplicated))
    assert doubled.status == "measured" and not doubled.survived
    assert doubled.to_dict()["duplicated_side_effects"]["commits"] == 1


def test_cases_not_built_are_listed_as_not_implemented_and_never_survived() -> None:
    names = [p[0] for p in PENDING]
    result = report(names)
    assert {f["name"] for f in result["faults"]} == set(names)
    assert all(f["status"] == "not_implemented" and f["survived"] is False for f in result["faults"])
    assert result["summary"]["all_survived"] is False


def test_the_cli_lists_the_matrix_and_refuses_an_unknown_case() -> None:
    medic = Path(sys.executable).with_name("medic")
    listed = subprocess.run([str(medic), "bench", "faults", "--list", "--json"], capture_output=True, text=True, check=True)
    assert [c["name"] for c in json.loads(listed.stdout)][: len(CASES)] == [c.name for c in CASES]
    argv = [str(medic), "bench", "faults", "--only", "no_such_case", "--json"]
    unknown = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert unknown.returncode == 2 and "no_such_case" in json.loads(unknown.stdout)["error"]
