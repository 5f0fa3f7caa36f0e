"""The release gate: level rules, business hours on a fixed clock, caps, pause, fail closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from medic_contracts import (
    AutonomyLevel,
    Caps,
    DecisionCode,
    DeploymentStage,
    IssueBrief,
    IssueType,
    MedicConfig,
    Severity,
    Verdict,
)
from medic_contracts import TestOutcome as Outcome
from medic_contracts import TestReport as Report
from medic_releaser.domain.gate import GateCounters, evaluate_gate

TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 12:00 Europe/London
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CHRISTMAS = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)  # a Friday, an English bank holiday
TUESDAY_EVENING = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)


def issue(severity: Severity = Severity.P2, users: int = 2) -> IssueBrief:
    return IssueBrief(target="shop", service="web", title="t", severity=severity, issue_type=IssueType.API_ERROR,
                      fingerprint="f", affected_users=users)  # fmt: skip


SANDBOXED = Report(command="npm test", outcome=Outcome.PASSED, passed=3, sandboxed=True)


def gate(*, config: MedicConfig | None = None, sev: Severity = Severity.P2, users: int = 2, stage: DeploymentStage =
         DeploymentStage.PRODUCTION, now: datetime = TUESDAY_NOON, paused: bool = False, deploys: int = 0,
         rollbacks: int = 0, approved: bool = False, level: AutonomyLevel = AutonomyLevel.AUTO_LOW_RISK,
         tests: Report | None = SANDBOXED):  # type: ignore[no-untyped-def]  # fmt: skip
    cfg = config if config is not None else MedicConfig(autonomy_level=level)
    return evaluate_gate(config=cfg, issue=issue(sev, users), stage=stage, now=now, paused=paused,
                         counters=GateCounters(deploys, rollbacks), approved=approved, tests=tests)  # fmt: skip


def test_level_two_deploys_low_risk_automatically_and_asks_for_the_rest() -> None:
    assert gate(sev=Severity.P2, users=2).verdict is Verdict.PROCEED
    assert gate(sev=Severity.P2, users=10).verdict is Verdict.NEEDS_APPROVAL
    assert gate(sev=Severity.P1, users=1).verdict is Verdict.NEEDS_APPROVAL
    assert gate(sev=Severity.P1, users=1, stage=DeploymentStage.STAGING).verdict is Verdict.PROCEED


def test_level_one_asks_for_every_deploy_and_level_three_proceeds() -> None:
    decision = gate(level=AutonomyLevel.MONITOR, stage=DeploymentStage.STAGING)
    assert decision.verdict is Verdict.NEEDS_APPROVAL and "level 1" in decision.reason
    assert gate(level=AutonomyLevel.MONITOR, approved=True).verdict is Verdict.PROCEED
    assert gate(level=AutonomyLevel.FULL, sev=Severity.P1, users=50).verdict is Verdict.PROCEED


@pytest.mark.parametrize("now", [SATURDAY, CHRISTMAS, TUESDAY_EVENING])
def test_low_severity_production_deploys_wait_for_business_hours(now: datetime) -> None:
    decision = gate(now=now)
    assert decision.verdict is Verdict.BLOCKED and "working days" in decision.reason
    assert decision.retry_at is not None and decision.retry_at > now
    assert gate(now=now, stage=DeploymentStage.STAGING).verdict is Verdict.PROCEED
    assert gate(now=now, sev=Severity.P1, level=AutonomyLevel.FULL).verdict is Verdict.PROCEED


def test_the_daily_cap_and_the_rollback_cap_block() -> None:
    decision = gate(deploys=10)
    assert decision.verdict is Verdict.BLOCKED and "daily cap" in decision.reason
    assert gate(deploys=9).verdict is Verdict.PROCEED
    capped = gate(rollbacks=3, stage=DeploymentStage.STAGING)
    assert capped.verdict is Verdict.NEEDS_APPROVAL and "3 rollbacks" in capped.reason
    custom = MedicConfig(caps=Caps(deploys_per_day=1))
    assert gate(config=custom, deploys=1).verdict is Verdict.BLOCKED


def test_paused_killed_or_unknown_config_moves_nothing() -> None:
    assert gate(paused=True).reason == "paused by an operator"
    assert gate(config=MedicConfig(active=False)).verdict is Verdict.BLOCKED
    decision = evaluate_gate(config=None, issue=issue(), stage=DeploymentStage.STAGING, now=TUESDAY_NOON, paused=False,
                             counters=GateCounters(), approved=True, tests=SANDBOXED)  # fmt: skip
    assert decision.verdict is Verdict.BLOCKED and "failing closed" in decision.reason


UNSANDBOXED = SANDBOXED.model_copy(update={"sandboxed": False, "sandbox_missing": ("pid_namespace (kernel refused)",)})


@pytest.mark.parametrize("stage", [DeploymentStage.STAGING, DeploymentStage.PRODUCTION])
def test_a_fix_tested_outside_the_full_sandbox_is_released_only_with_approval(stage: DeploymentStage) -> None:
    decision = gate(stage=stage, tests=UNSANDBOXED, level=AutonomyLevel.FULL)
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    assert "without a full sandbox" in decision.reason and "pid_namespace" in decision.reason
    assert gate(stage=stage, tests=UNSANDBOXED, approved=True).verdict is Verdict.PROCEED
    assert gate(stage=stage, tests=SANDBOXED, level=AutonomyLevel.FULL).verdict is Verdict.PROCEED


def test_a_fix_without_a_sandbox_record_fails_closed_to_approval() -> None:
    unknown = SANDBOXED.model_copy(update={"sandboxed": None})
    for tests in (unknown, None):
        decision = gate(stage=DeploymentStage.STAGING, tests=tests)
        assert decision.verdict is Verdict.NEEDS_APPROVAL and "no sandbox record" in decision.reason


def test_level_one_names_the_missing_sandbox_beside_its_own_reason() -> None:
    decision = gate(level=AutonomyLevel.MONITOR, stage=DeploymentStage.STAGING, tests=UNSANDBOXED)
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    assert "level 1" in decision.reason and "without a full sandbox" in decision.reason


def test_a_blocked_deploy_stays_blocked_whatever_the_sandbox() -> None:
    assert gate(deploys=10, tests=UNSANDBOXED).verdict is Verdict.BLOCKED
    assert gate(paused=True, tests=UNSANDBOXED).verdict is Verdict.BLOCKED


@pytest.mark.parametrize("stage", [DeploymentStage.STAGING, DeploymentStage.PRODUCTION])
def test_a_fix_its_release_gate_did_not_verify_is_released_only_with_approval(stage: DeploymentStage) -> None:
    cfg = MedicConfig(autonomy_level=AutonomyLevel.FULL)
    common = {"config": cfg, "issue": issue(), "stage": stage, "now": TUESDAY_NOON, "paused": False,
              "counters": GateCounters(), "tests": SANDBOXED}  # fmt: skip
    decision = evaluate_gate(**common, approved=False, verified=False, verification="not reproduced: no request")
    assert decision.verdict is Verdict.NEEDS_APPROVAL and decision.code is DecisionCode.UNVERIFIED
    assert "not reproduced: no request" in decision.reason
    assert evaluate_gate(**common, approved=True, verified=False).verdict is Verdict.PROCEED
    for verified in (True, None):  # verified, or from a producer before FixCommitted 1.3
        assert evaluate_gate(**common, approved=False, verified=verified).verdict is Verdict.PROCEED
