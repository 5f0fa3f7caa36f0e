"""The rollout's transition rules as pure functions, and the notice's root cause from the fix."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from medic_contracts import (
    CheckVerdict,
    DeploymentOutcome,
    DeploymentStage,
    FixCommitted,
    FixStrategy,
    IssueBrief,
    IssueType,
    Producer,
    Severity,
)
from medic_contracts import TestOutcome as Outcome
from medic_contracts import TestReport as Report
from medic_releaser.domain.analysis import CheckName
from medic_releaser.domain.notice import notice_for
from medic_releaser.domain.runs import DeploymentStatus, Phase, ReleaseRun, RunStatus, StageState, run_id_for
from medic_releaser.domain.transitions import (
    BaselineAction,
    DeployAction,
    RecurrenceAction,
    Step,
    WatchAction,
    baseline_step,
    deploy_step,
    manual_rollback,
    next_step,
    recurrence_step,
    rollback_status,
    watch_end,
    watch_interrupt,
    watch_sample_failed,
)

STAGING, PRODUCTION = DeploymentStage.STAGING, DeploymentStage.PRODUCTION


def fix(root_cause: str | None = None) -> FixCommitted:
    return FixCommitted(
        producer=Producer(service="implementer", instance="i"), issue_id="iss_1",
        issue=IssueBrief(target="shop", service="web", title="t", severity=Severity.P2, issue_type=IssueType.API_ERROR,
                         fingerprint="f"),
        repository="r", branch="agent/fix-iss_1", base_sha="b" * 40, commit_sha="c" * 40, files_changed=("a.py",),
        diff_hash="sha256:x", strategy=FixStrategy.NULL_GUARD, tests=Report(command="true", outcome=Outcome.PASSED),
        root_cause=root_cause,
    )  # fmt: skip


def run(**update: object) -> ReleaseRun:
    f = fix()
    base = ReleaseRun(run_id=run_id_for(f), issue_id=f.issue_id, target="shop", fix=f, created_at=0.0, updated_at=0.0)
    return base.model_copy(update=update)


def test_the_notice_names_the_root_cause_the_fix_carries() -> None:
    f = fix("practice may be null")
    r = run(fix=f)
    assert notice_for(r, DeploymentOutcome.PROMOTED, "ok").root_cause == "practice may be null"
    assert notice_for(run(), DeploymentOutcome.PROMOTED, "ok").root_cause is None
    old = FixCommitted.model_validate({**f.model_dump(mode="json", exclude={"root_cause"}), "schema_version": "1.1"})
    assert old.root_cause is None  # a 1.1 producer's event still parses


def test_a_pending_manual_rollback_comes_before_every_step_but_the_watch_and_rollback() -> None:
    assert next_step(run(phase=Phase.MERGE, rollback_requested_by="ops")) is Step.MANUAL_ROLLBACK
    assert next_step(run(phase=Phase.WATCH, rollback_requested_by="ops")) is Step.WATCH
    assert next_step(run(phase=Phase.DONE)) is Step.NONE


def test_a_manual_rollback_cancels_when_nothing_is_deployed_and_undoes_staging_before_production_deployed() -> None:
    assert manual_rollback(run(rollback_requested_by="ops")).cancel
    deployed = run(stage=PRODUCTION, staging=StageState(deploy_key="k"), rollback_requested_by="ops")
    verdict = manual_rollback(deployed)
    assert not verdict.cancel and verdict.stage is STAGING and verdict.reason == "manual rollback by ops"


def test_baseline_gaps_retry_then_give_up_on_staging_and_undo_staging_on_production() -> None:
    gap = CheckVerdict(name=CheckName.ERROR_RATE, passed=False, detail="no baseline error rate")
    assert baseline_step(gaps=[], attempts=0, stage=STAGING).action is BaselineAction.PROCEED
    assert baseline_step(gaps=[gap], attempts=0, stage=STAGING).action is BaselineAction.RETRY
    final = baseline_step(gaps=[gap], attempts=2, stage=STAGING)
    assert final.action is BaselineAction.GIVE_UP and final.reason.endswith("nothing was merged")
    assert baseline_step(gaps=[gap], attempts=2, stage=PRODUCTION).action is BaselineAction.ROLL_BACK_STAGING


def test_a_deployment_waits_until_its_timeout_and_fails_or_activates() -> None:
    assert deploy_step(status=DeploymentStatus.BUILDING, elapsed_s=1, timeout_s=10) is DeployAction.WAIT
    assert deploy_step(status=DeploymentStatus.BUILDING, elapsed_s=11, timeout_s=10) is DeployAction.TIMED_OUT
    assert deploy_step(status=DeploymentStatus.ERROR, elapsed_s=1, timeout_s=10) is DeployAction.FAILED
    assert deploy_step(status=DeploymentStatus.READY, elapsed_s=1, timeout_s=10) is DeployAction.ACTIVATE


def test_a_recurrence_reopens_in_production_and_rolls_staging_back() -> None:
    assert watch_interrupt(run()) is None
    reopened = watch_interrupt(run(stage=PRODUCTION, recurred=True))
    assert reopened is not None and reopened.outcome is DeploymentOutcome.REOPENED
    recurred = CheckVerdict(name=CheckName.RECURRENCE, passed=False, value=1.0, detail="recurred")
    on_staging = watch_sample_failed(failed=[recurred], verdicts=[recurred], stage=STAGING)
    assert on_staging.action is WatchAction.ROLL_BACK and on_staging.outcome is DeploymentOutcome.ROLLED_BACK
    on_production = watch_sample_failed(failed=[recurred], verdicts=[recurred], stage=PRODUCTION)
    assert on_production.outcome is DeploymentOutcome.REOPENED
    assert rollback_status(DeploymentOutcome.REOPENED) is RunStatus.REOPENED


def test_the_window_promotes_only_when_every_verdict_passed() -> None:
    ok = CheckVerdict(name=CheckName.HEALTH, passed=True, detail="ok")
    bad = CheckVerdict(name=CheckName.LATENCY, passed=False, detail="slow")
    assert watch_end([ok]).action is WatchAction.PROMOTE
    end = watch_end([ok, bad])
    assert end.action is WatchAction.ROLL_BACK and end.reason == "latency: slow"


def test_the_watchers_report_recurs_only_after_production_started_running_the_fix_and_within_verification() -> None:
    started = time.time() - 100
    production = StageState(deploy_started_at=started)
    seen_after = datetime.fromtimestamp(started + 10, UTC)
    seen_before = datetime.fromtimestamp(started - 10, UTC)
    watching = run(stage=PRODUCTION, phase=Phase.WATCH, production=production)
    assert recurrence_step(watching, seen_at=seen_after, now=time.time(), verify_s=60) is RecurrenceAction.FAIL_WATCH
    assert recurrence_step(watching, seen_at=seen_before, now=time.time(), verify_s=60) is RecurrenceAction.IGNORE
    staging_watch = run(phase=Phase.WATCH)  # production still runs the bug
    assert recurrence_step(staging_watch, seen_at=seen_after, now=time.time(), verify_s=60) is RecurrenceAction.IGNORE
    promoted = run(stage=PRODUCTION, status=RunStatus.PROMOTED, phase=Phase.DONE, production=production, updated_at=started)
    assert recurrence_step(promoted, seen_at=seen_after, now=started + 30, verify_s=60) is RecurrenceAction.REOPEN
    late = started + timedelta(hours=1).total_seconds()
    assert recurrence_step(promoted, seen_at=seen_after, now=late, verify_s=60) is RecurrenceAction.IGNORE
