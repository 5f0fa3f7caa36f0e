"""What approve, reject, rollback and the watcher's reports do to a run: the pure rules of domain/commands."""

from __future__ import annotations

from datetime import UTC, datetime

from medic_contracts import (
    ActionStatus,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentStage,
    FixCommitted,
    FixStrategy,
    IssueBrief,
    IssueDetected,
    IssueType,
    Producer,
    Severity,
)
from medic_contracts import TestOutcome as Outcome
from medic_contracts import TestReport as Report
from medic_releaser.domain import commands
from medic_releaser.domain.commands import Refusal, RunChange
from medic_releaser.domain.runs import Phase, ReleaseRun, RunStatus, StageState, run_id_for

NOW = datetime.now(UTC)
PRODUCER = Producer(service="control-api", instance="c")


def fix(target: str = "shop", severity: Severity = Severity.P2) -> FixCommitted:
    return FixCommitted(
        producer=Producer(service="implementer", instance="i"), issue_id="iss_1",
        issue=IssueBrief(target=target, service="web", title="t", severity=severity, issue_type=IssueType.API_ERROR,
                         fingerprint="f"),
        repository="r", branch="agent/fix-iss_1", base_sha="b" * 40, commit_sha="c" * 40, files_changed=("a.py",),
        diff_hash="sha256:x", strategy=FixStrategy.NULL_GUARD, tests=Report(command="true", outcome=Outcome.PASSED),
    )  # fmt: skip


def run(**update: object) -> ReleaseRun:
    f = fix()
    base = ReleaseRun(run_id=run_id_for(f), issue_id=f.issue_id, target="shop", fix=f, created_at=0.0, updated_at=0.0)
    return base.model_copy(update=update)


def command(name: CommandName, **fields: object) -> ControlCommand:
    return ControlCommand(producer=PRODUCER, command=name, actor="ana", **fields)  # type: ignore[arg-type]


def waiting(stage: DeploymentStage) -> ReleaseRun:
    state = StageState(approval_id="apr_1")
    return run(status=RunStatus.AWAITING_APPROVAL, stage=stage, **{stage.value: state})


def issue(severity: Severity) -> IssueDetected:
    return IssueDetected(
        producer=Producer(service="watcher", instance="w"), issue_id="iss_1", target="shop", service="web", title="t",
        severity=severity, issue_type=IssueType.API_ERROR, fingerprint="f", affected_users=40, message="t",
        frequency={"count": 3, "window_seconds": 300}, first_seen=NOW, last_seen=NOW, source="sentry",
    )  # fmt: skip


def test_an_approval_bound_to_another_diff_is_refused_and_one_bound_to_this_diff_resumes_the_run() -> None:
    wrong = commands.approval(waiting(DeploymentStage.STAGING), command(CommandName.APPROVE, diff_hash="sha256:other"))
    assert isinstance(wrong, Refusal) and "sha256:other" in wrong.summary and wrong.issue_id == "iss_1"
    right = commands.approval(waiting(DeploymentStage.STAGING), command(CommandName.APPROVE, diff_hash="sha256:x"))
    assert isinstance(right, RunChange)
    assert right.run.status is RunStatus.ACTIVE and right.run.staging.approved_by == "ana" and right.wake
    assert commands.approval(run(status=RunStatus.ACTIVE), command(CommandName.APPROVE, diff_hash="sha256:x")) is None


def test_a_rejected_staging_deploy_ends_the_run_and_a_rejected_production_deploy_undoes_staging() -> None:
    staging = commands.rejection(waiting(DeploymentStage.STAGING), command(CommandName.REJECT, reason="risky"))
    assert staging is not None
    assert (staging.run.status, staging.run.phase, staging.run.staging.outcome) == (RunStatus.REJECTED, Phase.DONE, "rejected")
    assert staging.announce is DeploymentOutcome.BLOCKED and staging.reason == "rejected by ana: risky"
    assert staging.status is ActionStatus.REFUSED and staging.enqueue is None
    production = commands.rejection(waiting(DeploymentStage.PRODUCTION), command(CommandName.REJECT))
    assert production is not None
    assert production.run.status is RunStatus.ACTIVE and production.run.rollback_requested_by == "ana (production rejected)"
    assert production.enqueue is not None and ":rejected:" in production.enqueue


def test_a_rollback_request_reopens_a_promoted_run_marks_an_active_one_and_ignores_a_finished_one() -> None:
    promoted = commands.rollback_request(run(status=RunStatus.PROMOTED), command(CommandName.ROLLBACK, issue_id="iss_1"))
    assert promoted is not None and promoted.run.phase is Phase.ROLLBACK and promoted.run.production.outcome == "rolled_back"
    active = commands.rollback_request(run(status=RunStatus.ACTIVE), command(CommandName.ROLLBACK, issue_id="iss_1"))
    assert active is not None and active.run.rollback_requested_by == "ana" and active.run.phase is run().phase
    assert commands.rollback_request(run(status=RunStatus.ROLLED_BACK), command(CommandName.ROLLBACK)) is None


def test_a_fix_for_another_target_makes_no_run_and_a_more_severe_earlier_view_is_kept() -> None:
    assert commands.new_run(fix(target="billing"), target="shop", seen=None, now=1.0) is None
    seen = fix(severity=Severity.P0).issue
    made = commands.new_run(fix(), target="shop", seen=seen, now=1.0)
    assert made is not None and made.issue.severity is Severity.P0
    assert commands.severity_raise(run(), issue(Severity.P3)) is None  # not more severe
    raised = commands.severity_raise(run(), issue(Severity.P1))
    assert raised is not None and raised.run.issue.severity is Severity.P1 and raised.run.issue.affected_users == 40


def test_commands_for_another_target_are_not_ours() -> None:
    assert commands.is_ours(command(CommandName.APPROVE), "shop")
    assert commands.is_ours(command(CommandName.APPROVE, target="shop"), "shop")
    assert not commands.is_ours(command(CommandName.APPROVE, target="billing"), "shop")
