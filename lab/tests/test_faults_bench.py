"""`medic bench faults` through its own code on the cheapest case: a real investigator process on a real broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medic_lab.faults import CASES, PENDING, FaultResult, report, run_case
from medic_lab.faults.matrix import Case
from medic_lab.faults.model import not_implemented
from medic_lab.faults.step_stacks import STACKS
from medic_lab.faults.steps import Fault, run_stacks

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


def test_every_case_of_the_matrix_is_built_and_a_case_not_built_would_never_count_as_survived() -> None:
    assert PENDING == ()
    names = {c.name for c in CASES}
    assert {"kill_9_each_service_each_step", "broker_restart_each_step", "llm_call_outlives_max_poll_interval",
            "claude_429_and_timeouts"} <= names  # fmt: skip
    pending = not_implemented("x", "a fault", "what should hold", "not built").to_dict()
    assert pending["status"] == "not_implemented" and pending["survived"] is False and pending["lost_issues"] is None


@pytest.mark.parametrize("fault", [Fault.KILL, Fault.BROKER])
def test_the_watcher_survives_the_fault_at_each_step_of_the_step_matrix(fault: Fault, tmp_path: Path) -> None:
    result = FaultResult(name="watcher", fault=fault.value, expected="one IssueDetected per error")
    run_stacks(tmp_path, result, fault, {"watcher": STACKS["watcher"]})
    assert result.checks.keys() >= {"watcher@lines_written: the issue completed after the fault",
                                    "watcher@issue_published: the issue completed after the fault"}, result.observed  # fmt: skip
    assert result.survived, (result.checks, result.observed)
    assert result.observed["watcher"]["issues_detected"] == {"lines_written": 1, "issue_published": 1}
    assert result.recovery_s is not None


def test_the_cli_lists_the_matrix_and_refuses_an_unknown_case() -> None:
    medic = Path(sys.executable).with_name("medic")
    listed = subprocess.run([str(medic), "bench", "faults", "--list", "--json"], capture_output=True, text=True, check=True)
    assert [c["name"] for c in json.loads(listed.stdout)][: len(CASES)] == [c.name for c in CASES]
    argv = [str(medic), "bench", "faults", "--only", "no_such_case", "--json"]
    unknown = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert unknown.returncode == 2 and "no_such_case" in json.loads(unknown.stdout)["error"]
