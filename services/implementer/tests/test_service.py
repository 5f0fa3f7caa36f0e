"""The implementer service on a real broker: DiagnosisReady in, FixCommitted out, exactly once."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import (
    ActionRecorded,
    ApprovalKind,
    ApprovalRequested,
    AutonomyLevel,
    CommandName,
    ControlCommand,
    FixCommitted,
    MedicConfig,
    Severity,
    TopicName,
    TopicRegistry,
)
from medic_forge import LocalForge
from medic_implementer.app import build
from medic_implementer.settings import ImplementerSettings
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_runtime.aio import bounded
from medic_testing.implementer import (
    OPERATOR,
    FixtureRepo,
    git,
    produce,
    pulls,
    python_diagnosis,
    read_events,
    set_config,
    write_target,
)
from medic_testing.runtime.settle import wait_settled

pytestmark = pytest.mark.kafka


@pytest.fixture
def implementer_settings(
    service_settings: Callable[..., ServiceSettings], python_repo: FixtureRepo, tmp_path: Path
) -> Callable[..., ImplementerSettings]:
    def make(**overrides: Any) -> ImplementerSettings:
        values: dict[str, Any] = {
            "target_file": write_target(python_repo, tmp_path),
            "tool_paths": (Path(sys.executable).parent,),
            "workspace_dir": tmp_path / "worktrees",
        }
        values.update(overrides)
        settings = service_settings("implementer", cls=ImplementerSettings, **values)
        assert isinstance(settings, ImplementerSettings)
        return settings

    return make


async def wait_idle(rt: ServiceRuntime, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = await rt.work.counts()
        if not counts.get("queued") and not counts.get("running"):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"work did not finish: {await rt.work.counts()}")


async def test_a_diagnosis_becomes_one_fix_committed_and_a_redelivery_changes_nothing(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1))
    rt = build(implementer_settings())
    await rt.start()
    try:
        diag = python_diagnosis(python_repo)
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), diag)
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 1)
        assert len(fixes) == 1 and isinstance(fixes[0], FixCommitted)
        fix = fixes[0]
        assert fix.causation_id == diag.event_id and fix.correlation_id == diag.correlation_id
        assert fix.branch == "agent/fix-iss_practice" and fix.base_sha == python_repo.bug_sha
        assert fix.tests.outcome.value == "passed" and fix.pr_number == 1 and fix.regression_test
        # The same event again (a redelivery) and a second copy with a replay marker are told apart.
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), diag)
        await asyncio.sleep(2)
        await wait_idle(rt)
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 2, timeout=4)
        assert len(fixes) == 1
        assert git(python_repo.remote, "rev-list", "--count", f"{python_repo.bug_sha}..agent/fix-iss_practice") == "1"
        assert len(pulls(python_repo.remote)) == 1
        actions = await read_events(
            kafka_bootstrap,
            topics.name(TopicName.ACTIONS),
            until=lambda e: any(isinstance(a, ActionRecorded) and a.action == "implementer.fix_committed" for a in e),
        )
        committed = next(a for a in actions if isinstance(a, ActionRecorded) and a.action == "implementer.fix_committed")
        assert "raise HTTPException" in str(committed.details["diff"]) and committed.details["test_outcome"] == "passed"
    finally:
        await rt.stop()


class HangAfterPush(LocalForge):
    """A forge whose push succeeds and then never returns: the process 'dies' right after pushing."""

    def __init__(self, remote: Path) -> None:
        super().__init__(remote, remote.parent / "forge-work")
        self.pushed = asyncio.Event()

    async def push_branch(self, *, clone: Path, branch: str, force: bool = False) -> str:
        sha = await super().push_branch(clone=clone, branch=branch, force=force)
        self.pushed.set()
        await asyncio.Event().wait()
        return sha


async def test_a_crash_after_the_push_recovers_to_exactly_one_fix_committed(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1))
    settings = implementer_settings(fix_lease_s=10)
    forge = HangAfterPush(python_repo.remote)
    first = build(settings, forge=forge)
    await first.start()
    diag = python_diagnosis(python_repo)
    try:
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), diag)
        await bounded(forge.pushed.wait(), timeout=120)
        await wait_settled(first)  # stopped mid-rebalance, the embedded broker would never let the next one join
    finally:
        await first.stop()  # the worker dies mid-flight: pushed, no PR, no event
    assert pulls(forge.remote) == []
    assert git(python_repo.remote, "rev-parse", "agent/fix-iss_practice")

    second = build(settings)  # same store: the running item is recovered
    await second.start()
    try:
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 1)
        await wait_idle(second)
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 2, timeout=3)
    finally:
        await second.stop()
    assert len(fixes) == 1 and isinstance(fixes[0], FixCommitted)
    assert fixes[0].commit_sha == git(python_repo.remote, "rev-parse", "agent/fix-iss_practice")
    assert git(python_repo.remote, "rev-list", "--count", f"{python_repo.bug_sha}..agent/fix-iss_practice") == "1"
    assert len(pulls(python_repo.remote)) == 1


class HangBeforePush(LocalForge):
    """A forge whose push never starts: the process 'dies' after its commit, before its push."""

    def __init__(self, remote: Path) -> None:
        super().__init__(remote, remote.parent / "forge-work")
        self.pushing = asyncio.Event()

    async def push_branch(self, *, clone: Path, branch: str, force: bool = False) -> str:
        self.pushing.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_crash_after_the_commit_that_leaves_its_worktree_recovers_to_exactly_one_fix_committed(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1))
    settings = implementer_settings(fix_lease_s=10)
    forge = HangBeforePush(python_repo.remote)
    first = build(settings, forge=forge)
    await first.start()
    diag = python_diagnosis(python_repo)
    try:
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), diag)
        await bounded(forge.pushing.wait(), timeout=120)
        await wait_settled(first)
    finally:
        await first.stop()
    committed = git(python_repo.path, "rev-parse", "agent/fix-iss_practice")
    # A SIGKILL leaves the attempt's worktree behind with the fix branch checked out (stop() cleaned ours up).
    stale = tmp_path / "worktrees" / "iss_practice-1-deadbeef"
    git(python_repo.path, "worktree", "add", "-q", str(stale), "agent/fix-iss_practice")

    second = build(settings)  # same store: the running item is recovered
    await second.start()
    try:
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 1)
        await wait_idle(second)
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 2, timeout=3)
        counts = await second.work.counts()
    finally:
        await second.stop()
    assert len(fixes) == 1 and isinstance(fixes[0], FixCommitted)
    assert fixes[0].commit_sha == committed == git(python_repo.remote, "rev-parse", "agent/fix-iss_practice")
    assert not counts.get("failed"), counts
    assert len(pulls(python_repo.remote)) == 1
    assert not stale.exists()


async def test_level_one_asks_for_approval_bound_to_the_diff_and_pushes_only_after_it(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1, autonomy_level=AutonomyLevel.MONITOR))
    rt = build(implementer_settings())
    await rt.start()
    try:
        diag = python_diagnosis(python_repo)
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), diag)
        actions = await read_events(
            kafka_bootstrap, topics.name(TopicName.ACTIONS), until=lambda e: any(isinstance(a, ApprovalRequested) for a in e)
        )
        request = next(a for a in actions if isinstance(a, ApprovalRequested))
        assert request.kind is ApprovalKind.FIX and "autonomy level 1" in request.reason
        assert request.diff_hash.startswith("sha256:") and "HTTPException" in request.diff
        assert git(python_repo.remote, "branch", "--list", "agent/*") == ""  # nothing pushed while waiting

        wrong = ControlCommand(
            producer=OPERATOR,
            command=CommandName.APPROVE,
            actor="alice",
            approval_id=request.approval_id,
            approval_kind=ApprovalKind.FIX,
            diff_hash="sha256:" + "f" * 64,
        )
        right = wrong.model_copy(update={"event_id": wrong.event_id[:-4] + "beef", "diff_hash": request.diff_hash})
        await produce(kafka_bootstrap, topics.name(TopicName.CONTROL), wrong, right)
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 1)
        assert len(fixes) == 1 and isinstance(fixes[0], FixCommitted)
        assert fixes[0].needs_approval and fixes[0].diff_hash == request.diff_hash
        actions = await read_events(
            kafka_bootstrap,
            topics.name(TopicName.ACTIONS),
            until=lambda e: any(isinstance(a, ActionRecorded) and a.action == "implementer.approval_mismatch" for a in e),
        )
        assert any(isinstance(a, ActionRecorded) and a.action == "implementer.approval_mismatch" for a in actions)
    finally:
        await rt.stop()


async def test_while_paused_nothing_is_committed_or_pushed(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1), paused=True)
    rt = build(implementer_settings())
    await rt.start()
    try:
        assert rt.paused
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), python_diagnosis(python_repo))
        await asyncio.sleep(3)
        assert (await rt.work.counts()).get("queued") == 1
        assert git(python_repo.path, "branch", "--list", "agent/*") == ""
        assert git(python_repo.remote, "branch", "--list", "agent/*") == ""
    finally:
        await rt.stop()


async def test_a_pending_approval_past_its_expiry_is_expired_and_audited(
    implementer_settings: Callable[..., ImplementerSettings], python_repo: FixtureRepo
) -> None:
    from sqlalchemy import select

    from medic_implementer.adapters.store import fix_approvals
    from medic_runtime.store import outbox

    rt = build(implementer_settings())
    await rt.store.create_all(*rt.extra_tables)
    diag = python_diagnosis(python_repo)
    row = {
        "approval_id": "apr-old",
        "issue_id": diag.issue_id,
        "diagnosis": diag.model_dump_json(),
        "attempt": "1",
        "diff": "",
        "diff_hash": "sha256:x",
        "base_sha": python_repo.bug_sha,
        "strategy": "null_guard",
        "description": "d",
        "tests": '{"command": "x", "outcome": "passed"}',
        "regression_test": None,
        "status": "pending",
        "expires_at": time.time() - 1,
        "decided_by": None,
        "created_at": time.time() - 100,
        "decided_at": None,
    }
    async with rt.store.transaction() as conn:
        await conn.execute(fix_approvals.insert().values(**row))
        await conn.execute(fix_approvals.insert().values(**{**row, "approval_id": "apr-fresh", "expires_at": time.time() + 600}))
    implementer = rt.work.workers["fix"].fn.__self__  # type: ignore[attr-defined]
    assert await implementer.expire_approvals() == 1
    async with rt.store.engine.connect() as conn:
        statuses = dict((await conn.execute(select(fix_approvals.c.approval_id, fix_approvals.c.status))).all())
        queued = [r.value for r in (await conn.execute(select(outbox))).all()]
    assert statuses == {"apr-old": "expired", "apr-fresh": "pending"}
    assert any(b"implementer.fix_expired" in value for value in queued)
    await rt.store.close()


async def test_a_p1_diagnosis_queued_behind_a_burst_of_p3s_is_fixed_first(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1), paused=True)
    rt = build(implementer_settings())
    await rt.start()
    try:
        burst = [python_diagnosis(python_repo, issue_id=f"iss_p3_{n}", severity=Severity.P3) for n in range(3)]
        urgent = python_diagnosis(python_repo, issue_id="iss_p1", severity=Severity.P1)
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), *burst, urgent)
        deadline = time.monotonic() + 20
        while (await rt.work.counts()).get("queued") != 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert (await rt.work.counts()).get("queued") == 4
        await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1), paused=False)
        fixes = await read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 1)
    finally:
        await rt.stop()
    assert fixes[0].issue_id == "iss_p1" and fixes[0].issue.severity is Severity.P1


async def test_a_p4_diagnosis_is_skipped_with_a_recorded_action_and_no_branch(
    implementer_settings: Callable[..., ImplementerSettings],
    python_repo: FixtureRepo,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1))
    rt = build(implementer_settings())
    await rt.start()
    try:
        await produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY),
                      python_diagnosis(python_repo, issue_id="iss_p4", severity=Severity.P4))  # fmt: skip
        actions = await read_events(
            kafka_bootstrap,
            topics.name(TopicName.ACTIONS),
            until=lambda e: any(isinstance(a, ActionRecorded) and a.action == "implementer.skipped" for a in e),
            timeout=30,
        )
    finally:
        await rt.stop()
    skipped = next(a for a in actions if isinstance(a, ActionRecorded) and a.action == "implementer.skipped")
    assert skipped.issue_id == "iss_p4" and "weekly review" in skipped.summary
    assert git(python_repo.path, "branch", "--list", "agent/*") == ""
