"""Fault cases around a real investigator process diagnosing a real repository with the offline playbook.

The setup is the scale test's: a repository with a real bug, its medic.toml and an IssueDetected
carrying the bug's real traceback. Measured from the diagnoses and actions topics and the store's outbox.
"""

from __future__ import annotations

import time
from pathlib import Path

from medic_contracts import DiagnosisReady, MedicConfig, TopicName
from medic_testing.investigator.buggy_target import buggy_target, issue_detected
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

from .model import FaultResult, audit_duplicates, duplicated_rows, extra, outbox_rows
from .stack import Bus, read_all, stop_all

__all__ = ["issue_detected_delivered_three_times"]

COPIES = 3


def issue_detected_delivered_three_times(b: Bus, root: Path, result: FaultResult) -> None:
    """The same IssueDetected (same event id) delivered three times, as a producer retry or a replay would."""
    toml, commit, trace = buggy_target(root)
    data = root / "inv"
    env = test_env(b.bootstrap, b.prefix, data, MEDIC_TARGETS=str(toml), MEDIC_WORKDIR=str(data / "work"))
    b.configure(MedicConfig(version=1))
    issue = issue_detected(1, trace, commit, prefix="iss_dup")
    proc = ServiceProcess.console_script("investigator", "medic-investigator", env=env, log_dir=root)
    try:
        proc.start().wait_healthy(timeout=120)
        b.publish(TopicName.ISSUES_DETECTED, *([issue] * COPIES))
        sent = time.monotonic()
        first = b.read(TopicName.DIAGNOSES_READY, until=lambda e: any(d.issue_id == issue.issue_id for d in e), timeout=120)
        result.recovery_s = time.monotonic() - sent if first else None
        seen = read_all(b, TopicName.DIAGNOSES_READY, TopicName.ACTIONS, settle_s=4.0)
    finally:
        stop_all(proc)
    diagnoses = [d for d in seen[TopicName.DIAGNOSES_READY] if isinstance(d, DiagnosisReady) and d.issue_id == issue.issue_id]
    stuck = outbox_rows(data)
    result.lost_issues = 0 if diagnoses else 1
    result.duplicate("events", extra([len({d.event_id for d in diagnoses})]))
    result.duplicate("audit_rows", audit_duplicates(seen[TopicName.ACTIONS]))
    if doubled := duplicated_rows(seen[TopicName.ACTIONS]):
        result.observed["duplicated_audit_rows"] = doubled
    result.unaudited_side_effects = stuck
    result.observed.update({"delivered": COPIES, "diagnoses": len(diagnoses), "outbox_left": stuck})
    result.checks["one DiagnosisReady for three deliveries"] = len(diagnoses) == 1
