"""The fault matrix: each case's setup → inject → wait → measure, run against real processes on its own broker."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import implementer, investigator, llm, releaser
from .model import FaultResult, not_implemented
from .stack import Bus, bus
from .step_stacks import STACKS
from .steps import Fault, run_stacks

__all__ = ["CASES", "PENDING", "Case", "report", "run_case"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    name: str
    fault: str
    expected: str
    run: Callable[[Bus, Path, FaultResult], None]
    cheap: bool = False


def kill_each_service_each_step(_b: Bus, root: Path, result: FaultResult) -> None:
    """kill -9 of each service at each step of its job (one stack per service, one issue per step)."""
    run_stacks(root, result, Fault.KILL, STACKS)


def broker_restart_each_step(_b: Bus, root: Path, result: FaultResult) -> None:
    """A memory-only broker restart while each service is at each step of its job."""
    run_stacks(root, result, Fault.BROKER, STACKS)


CASES: tuple[Case, ...] = (
    Case(
        "implementer_kill_after_diagnosis",
        "kill -9 of the implementer after DiagnosisReady, while its push is in flight; a new process starts",
        "one FixCommitted, one commit, one pull request",
        implementer.implementer_killed_after_diagnosis,
    ),
    Case(
        "issue_detected_delivered_3_times",
        "the same IssueDetected (same event id) delivered 3 times to the investigator",
        "one DiagnosisReady, no duplicated audit row",
        investigator.issue_detected_delivered_three_times,
        cheap=True,
    ),
    Case(
        "broker_restart_during_fix",
        "memory-only broker restarted while the implementer pushes a fix (topics, offsets, groups, producer ids lost)",
        "FixCommitted published after the restart, outbox drained, a pause reaches the implementer within 1 s",
        implementer.broker_restart_during_fix,
    ),
    Case(
        "releaser_killed_mid_watch",
        "releaser kill -9 4.5 s into a 12 s staging watch, back 15 s later, a new error streaming meanwhile",
        "no promotion on pre-kill samples: rolled back, one staging result",
        releaser.releaser_killed_mid_watch,
    ),
    Case(
        "metrics_503_during_watch",
        "the staging metrics source answers 503 from 1 s into the watch",
        "not promoted (missing data counts as failing)",
        releaser.metrics_503_during_watch,
    ),
    Case(
        "git_remote_down_during_push",
        "the git remote refuses the first 2 pushes of a fix",
        "push retried, one FixCommitted, one commit",
        implementer.git_remote_down_during_push,
    ),
    Case(
        "two_releaser_instances",
        "two releaser processes sharing one store, two fixes for the same target",
        "one release at a time per stage, each fix deployed once per stage",
        releaser.two_releaser_instances,
    ),
    Case(
        "llm_call_outlives_max_poll_interval",
        "one Messages API call held 16 s, longer than the investigator's max_poll_interval_ms (10 s)",
        "no eviction: an issue sent mid-call is consumed; one diagnosis, the work not redone",
        llm.llm_call_outlives_max_poll_interval,
    ),
    Case(
        "claude_429_and_timeouts",
        "Claude answers 429 (retry-after) then hangs past the client timeout; for a second target it only answers 429",
        "the first issue diagnosed by Claude once after the outage; the second escalated to a human past its patience",
        llm.claude_429_and_timeouts,
    ),
    Case(
        "kill_9_each_service_each_step",
        "kill -9 of each service at each step: watcher (lines written, issue published), investigator (LLM call in "
        "flight, diagnosis published), implementer (push in flight, fix announced), releaser (gate, merge, staging "
        "deploy, staging watch, production deploy); a new process on the same store",
        "every issue completes once: one IssueDetected, DiagnosisReady, FixCommitted and commit, one deploy per stage",
        kill_each_service_each_step,
    ),
    Case(
        "broker_restart_each_step",
        "the memory-only broker restarted (topics declared, control state re-published) at each of those steps",
        "every issue completes once, with nothing left in an outbox",
        broker_restart_each_step,
    ),
)

#: Cases of issue 17's matrix not built yet: listed so the report never reads as if they survived.
PENDING: tuple[tuple[str, str, str, str], ...] = ()


def run_case(case: Case, *, keep: Path | None = None) -> FaultResult:
    """One case on its own broker and scratch directory; a broken setup is an ``error``, never a survival."""
    result = FaultResult(name=case.name, fault=case.fault, expected=case.expected)
    root = Path(tempfile.mkdtemp(prefix=f"medic-fault-{case.name}-", dir=keep))
    started = time.monotonic()
    try:
        with bus() as b:
            case.run(b, root, result)
    except Exception as exc:
        result.status = "error"
        result.detail = f"{type(exc).__name__}: {exc}"[-4000:]
        log.debug("fault case %s failed:\n%s", case.name, traceback.format_exc())
    finally:
        result.wall_s = time.monotonic() - started
        result.observed["workdir"] = str(root)
        if keep is None and result.status == "measured":
            shutil.rmtree(root, ignore_errors=True)
            result.observed.pop("workdir")
    return result


def report(
    only: Iterable[str] | None = None, *, keep: Path | None = None, progress: Callable[[FaultResult], None] | None = None
) -> dict[str, Any]:
    """Run the cases (all, or ``only`` these names) and the pending list; one JSON-ready report."""
    wanted = set(only or ())
    unknown = wanted - {c.name for c in CASES} - {p[0] for p in PENDING}
    if unknown:
        raise ValueError(f"unknown fault case(s): {', '.join(sorted(unknown))}")
    started = time.monotonic()
    results: list[FaultResult] = []
    for case in CASES:
        if wanted and case.name not in wanted:
            continue
        result = run_case(case, keep=keep)
        results.append(result)
        if progress:
            progress(result)
    results += [not_implemented(*p) for p in PENDING if not wanted or p[0] in wanted]
    faults = [r.to_dict() for r in results]
    measured = [f for f in faults if f["status"] == "measured"]
    return {
        "benchmark": "faults",
        "faults": faults,
        "summary": {
            "cases": len(faults),
            "measured": len(measured),
            "survived": sum(1 for f in faults if f["survived"]),
            "not_implemented": sum(1 for f in faults if f["status"] == "not_implemented"),
            "errors": sum(1 for f in faults if f["status"] == "error"),
            "lost_issues": sum(f["lost_issues"] for f in measured),
            "duplicated_side_effects": sum(sum(f["duplicated_side_effects"].values()) for f in measured),
            "unaudited_side_effects": sum(f["unaudited_side_effects"] for f in measured),
            "all_survived": bool(faults) and all(f["survived"] for f in faults),
        },
        "wall_s": round(time.monotonic() - started, 1),
    }
