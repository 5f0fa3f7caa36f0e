"""Fault cases around a real implementer process fixing a real repository (bare remote as the forge).

The setup is the implementer's process test: the fixture repository, its medic.toml, a
DiagnosisReady from the offline playbook, hooks on the bare remote to hold or refuse a push.
Measured from the remote (commits, pull requests), the fixes and actions topics and the store's outbox.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from medic_contracts import FixCommitted, MedicConfig, TopicName
from medic_testing.implementer import FixtureRepo, git, pulls, python_diagnosis, python_fixture_repo, write_target
from medic_testing.implementer.hooks import hold_first_push, refuse_pushes
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

from .model import FaultResult, audit_duplicates, duplicated_rows, extra, outbox_rows
from .stack import Bus, read_all, stop_all, wait_until

__all__ = ["broker_restart_during_fix", "git_remote_down_during_push", "implementer_killed_after_diagnosis"]

ISSUE = "iss_practice"
BRANCH = f"agent/fix-{ISSUE}"


def _env(b: Bus, repo: FixtureRepo, root: Path) -> dict[str, str]:
    return test_env(
        b.bootstrap,
        b.prefix,
        root / "data",
        MEDIC_TARGET_FILE=str(write_target(repo, root)),
        MEDIC_TOOL_PATHS=json.dumps([str(Path(sys.executable).parent)]),
        MEDIC_WORKSPACE_DIR=str(root / "worktrees"),
        MEDIC_FIX_LEASE_S="10",
    )


def _implementer(name: str, env: dict[str, str], root: Path) -> ServiceProcess:
    return ServiceProcess.console_script(name, "medic-implementer", env=env, log_dir=root)


def _fixes(b: Bus, timeout: float) -> list[FixCommitted]:
    events = b.read(TopicName.FIXES_COMMITTED, until=lambda e: any(f.issue_id == ISSUE for f in e), timeout=timeout)
    return [e for e in events if isinstance(e, FixCommitted)]


def _measure(result: FaultResult, b: Bus, repo: FixtureRepo, root: Path) -> None:
    """Count what the fix left in the world against what was announced and audited."""
    seen = read_all(b, TopicName.FIXES_COMMITTED, TopicName.ACTIONS)
    fixes = [e for e in seen[TopicName.FIXES_COMMITTED] if isinstance(e, FixCommitted) and e.issue_id == ISSUE]
    actions = seen[TopicName.ACTIONS]
    try:
        commits = int(git(repo.remote, "rev-list", "--count", f"{repo.bug_sha}..{BRANCH}"))
        head = git(repo.remote, "rev-parse", BRANCH)
    except Exception:
        commits, head = 0, ""
    prs = len(pulls(repo.remote))
    result.lost_issues = 0 if fixes else 1
    result.duplicate("commits", extra([commits]))
    result.duplicate("pull_requests", extra([prs]))
    result.duplicate("events", extra([len({f.event_id for f in fixes})]))
    result.duplicate("audit_rows", audit_duplicates(actions))
    if doubled := duplicated_rows(actions):
        result.observed["duplicated_audit_rows"] = doubled
    announced = {f.commit_sha for f in fixes}
    stuck = outbox_rows(root / "data")
    # A pushed commit nobody announced, or events written and never published, are side effects without a trail.
    result.unaudited_side_effects = (1 if head and head not in announced else 0) + stuck
    result.observed.update(
        {
            "fix_committed": len(fixes),
            "commits_on_branch": commits,
            "pull_requests": prs,
            "outbox_left": stuck,
            "audit_rows": len({a.event_id for a in actions if getattr(a, "issue_id", None) == ISSUE}),
        }
    )
    result.checks["one FixCommitted for the pushed commit"] = len(fixes) == 1 and fixes[0].commit_sha == head


def implementer_killed_after_diagnosis(b: Bus, root: Path, result: FaultResult) -> None:
    """kill -9 of the implementer while it pushes the fix for a DiagnosisReady; a new process takes over."""
    repo = python_fixture_repo(root / "repo")
    marker = root / "pushed"
    hold_first_push(repo.remote, marker)
    env = _env(b, repo, root)
    b.configure(MedicConfig(version=1))
    first, second = _implementer("implementer-1", env, root), _implementer("implementer-2", env, root)
    try:
        first.start().wait_healthy(timeout=120)
        b.publish(TopicName.DIAGNOSES_READY, python_diagnosis(repo))
        if not wait_until(marker.exists, timeout=240, interval=0.2):
            raise TimeoutError(f"the push never started\n{first.log_tail()}")
        first.kill()
        killed = time.monotonic()
        second.start().wait_healthy(timeout=120)
        fixes = _fixes(b, timeout=240)
        result.recovery_s = time.monotonic() - killed if fixes else None
        _measure(result, b, repo, root)
    finally:
        stop_all(first, second)


def git_remote_down_during_push(b: Bus, root: Path, result: FaultResult) -> None:
    """The remote refuses the first two pushes (down); the implementer retries and delivers one fix."""
    repo = python_fixture_repo(root / "repo")
    tally = root / "push-attempts"
    refuse_pushes(repo.remote, 2, tally=tally)
    env = _env(b, repo, root)
    b.configure(MedicConfig(version=1))
    proc = _implementer("implementer", env, root)
    try:
        proc.start().wait_healthy(timeout=120)
        b.publish(TopicName.DIAGNOSES_READY, python_diagnosis(repo))
        if not wait_until(tally.exists, timeout=240, interval=0.2):
            raise TimeoutError(f"no push was attempted\n{proc.log_tail()}")
        down = time.monotonic()
        fixes = _fixes(b, timeout=240)
        result.recovery_s = time.monotonic() - down if fixes else None
        attempts = len(tally.read_text().splitlines())
        result.observed["push_attempts"] = attempts
        result.checks["retried past the outage"] = attempts >= 3
        _measure(result, b, repo, root)
    finally:
        stop_all(proc)


def broker_restart_during_fix(b: Bus, root: Path, result: FaultResult) -> None:
    """The broker restarts (memory-only: topics, offsets, groups, producer ids lost) while a fix is being pushed.

    After it is back (topics declared and the control state re-published, as ``medic dev up`` and
    control-api do), the fix is announced, the outbox drains, and a pause reaches the implementer.
    """
    repo = python_fixture_repo(root / "repo")
    marker, release = root / "pushed", root / "release-push"
    hold_first_push(repo.remote, marker, release=release)
    env = _env(b, repo, root)
    env.update({"MEDIC_OUTBOX_ACK_TIMEOUT_S": "5", "MEDIC_KAFKA_REQUEST_TIMEOUT_MS": "5000"})
    b.configure(MedicConfig(version=1))
    proc = _implementer("implementer", env, root)
    try:
        proc.start().wait_healthy(timeout=120)
        b.publish(TopicName.DIAGNOSES_READY, python_diagnosis(repo))
        if not wait_until(marker.exists, timeout=240, interval=0.2):
            raise TimeoutError(f"the push never started\n{proc.log_tail()}")
        b.restart(down_s=2.0)
        back = time.monotonic()
        b.configure(MedicConfig(version=1))
        release.touch()
        fixes = _fixes(b, timeout=120)
        result.recovery_s = time.monotonic() - back if fixes else None
        drained = wait_until(lambda: outbox_rows(root / "data") == 0, timeout=30)
        result.checks["outbox drained after the restart"] = bool(drained)
        proc.wait_healthy(timeout=60)
        b.pause("bench: after the broker restart")
        sent = time.monotonic()
        reached = wait_until(lambda: proc.health().get("paused") is True, timeout=5.0, interval=0.02)
        elapsed = time.monotonic() - sent
        result.observed["pause_reached_s"] = round(elapsed, 2) if reached else None
        result.checks["pause after the restart reached the implementer within 1 s"] = bool(reached) and elapsed <= 1.0
        _measure(result, b, repo, root)
    finally:
        stop_all(proc)
