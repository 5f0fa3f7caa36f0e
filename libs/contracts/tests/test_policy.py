"""Release policy: autonomy levels, caps, business hours (UK holidays), pause and kill switch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from medic_contracts import (
    AutonomyLevel,
    DecisionCode,
    IssueBrief,
    IssueType,
    MedicConfig,
    PolicyFacts,
    Severity,
    Stage,
    Verdict,
    auto_fix_refusal,
    decide,
    is_auto_handled,
    next_window_open,
)
from medic_contracts.config import BusinessHours

# Wednesday 2026-11-25 11:00 London (UTC in winter)
OPEN = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
CHRISTMAS = datetime(2026, 12, 25, 11, 0, tzinfo=UTC)


def brief(severity: Severity = Severity.P2, users: int = 2) -> IssueBrief:
    return IssueBrief(
        target="shop",
        service="web",
        title="t",
        severity=severity,
        issue_type=IssueType.API_ERROR,
        fingerprint="fp",
        affected_users=users,
    )


def facts(
    stage: Stage = Stage.PRODUCTION, *, now: datetime = OPEN, severity: Severity = Severity.P2, users: int = 2, **kw: object
) -> PolicyFacts:
    return PolicyFacts(issue=brief(severity, users), stage=stage, now=now, paused=bool(kw.pop("paused", False)), **kw)  # type: ignore[arg-type]


def cfg(level: AutonomyLevel = AutonomyLevel.AUTO_LOW_RISK, **kw: object) -> MedicConfig:
    return MedicConfig(autonomy_level=level, **kw)  # type: ignore[arg-type]


def test_unknown_config_fails_closed() -> None:
    d = decide(None, facts())
    assert d.verdict is Verdict.BLOCKED and "fail" in d.reason


def test_pause_and_kill_switch_block_everything() -> None:
    assert decide(cfg(), facts(paused=True)).verdict is Verdict.BLOCKED
    assert decide(cfg(active=False), facts()).verdict is Verdict.BLOCKED
    assert decide(cfg(), facts(Stage.FIX, paused=True)).verdict is Verdict.BLOCKED


@pytest.mark.parametrize(
    ("severity", "users", "expected"),
    [
        (Severity.P2, 2, Verdict.PROCEED),
        (Severity.P3, 9, Verdict.PROCEED),
        (Severity.P3, 10, Verdict.NEEDS_APPROVAL),
        (Severity.P1, 1, Verdict.NEEDS_APPROVAL),
        (Severity.P0, 1, Verdict.NEEDS_APPROVAL),
    ],
)
def test_level_two_is_automatic_only_for_low_risk(severity: Severity, users: int, expected: Verdict) -> None:
    assert decide(cfg(), facts(severity=severity, users=users)).verdict is expected


def test_level_one_needs_approval_for_every_deploy_and_fix_unless_approved() -> None:
    c = cfg(AutonomyLevel.MONITOR)
    for stage in (Stage.FIX, Stage.STAGING, Stage.PRODUCTION):
        assert decide(c, facts(stage)).verdict is Verdict.NEEDS_APPROVAL
        assert decide(c, facts(stage, approved=True)).verdict is Verdict.PROCEED


def test_level_three_is_automatic_except_p0_with_many_users() -> None:
    c = cfg(AutonomyLevel.FULL)
    assert decide(c, facts(severity=Severity.P1, users=50)).verdict is Verdict.PROCEED
    assert decide(c, facts(severity=Severity.P0, users=101)).verdict is Verdict.NEEDS_APPROVAL


def test_business_hours_block_p2_to_p4_in_production_but_not_p1() -> None:
    for when in (NIGHT, SATURDAY, CHRISTMAS):
        d = decide(cfg(), facts(now=when))
        assert d.verdict is Verdict.BLOCKED, when
        assert d.retry_at is not None and d.retry_at > when
    assert decide(cfg(AutonomyLevel.FULL), facts(now=NIGHT, severity=Severity.P1)).verdict is Verdict.PROCEED
    assert decide(cfg(), facts(Stage.STAGING, now=NIGHT)).verdict is Verdict.PROCEED


def test_next_window_skips_weekend_and_bank_holidays() -> None:
    hours = BusinessHours()
    assert next_window_open(hours, SATURDAY).isoformat() == "2026-11-30T09:00:00+00:00"
    # 25 and 26 December 2026: Christmas Day (Friday), Boxing Day substitute Monday 28th
    assert next_window_open(hours, CHRISTMAS).date().isoformat() == "2026-12-29"


def test_daily_deploy_cap_and_rollback_cap() -> None:
    assert decide(cfg(), facts(deploys_today=10)).verdict is Verdict.BLOCKED
    assert decide(cfg(), facts(deploys_today=9)).verdict is Verdict.PROCEED
    d = decide(cfg(), facts(rollbacks_for_issue=3))
    assert d.verdict is Verdict.NEEDS_APPROVAL and "human" in d.reason


def test_fix_stage_rules() -> None:
    assert decide(cfg(), facts(Stage.FIX, severity=Severity.P4)).verdict is Verdict.BLOCKED
    assert decide(cfg(), facts(Stage.FIX, severity=Severity.P0, users=150)).verdict is Verdict.NEEDS_APPROVAL
    assert decide(cfg(), facts(Stage.FIX, touches_approval_paths=True)).verdict is Verdict.NEEDS_APPROVAL
    assert decide(cfg(), facts(Stage.FIX, diff_lines=500)).verdict is Verdict.NEEDS_APPROVAL
    assert decide(cfg(), facts(Stage.FIX, outside_evidence=True)).verdict is Verdict.NEEDS_APPROVAL
    assert decide(cfg(), facts(Stage.FIX)).verdict is Verdict.PROCEED


def test_an_unverified_fix_needs_a_human_with_its_own_code_at_every_stage() -> None:
    why = "not reproduced: no reproducer"
    fix = decide(cfg(AutonomyLevel.FULL), facts(Stage.FIX, fix_verified=False, unverified_reason=why))
    assert (fix.verdict, fix.code) == (Verdict.NEEDS_APPROVAL, DecisionCode.UNVERIFIED) and why in fix.reason
    both = decide(cfg(), facts(Stage.FIX, fix_verified=False, diff_lines=500))
    assert both.code is DecisionCode.UNVERIFIED and "exceeds" in both.reason
    approved = decide(cfg(), facts(Stage.FIX, fix_verified=False, approved=True))
    assert (approved.verdict, approved.code) == (Verdict.PROCEED, DecisionCode.APPROVED)
    for stage in (Stage.STAGING, Stage.PRODUCTION):
        release = decide(cfg(AutonomyLevel.FULL), facts(stage, fix_verified=False))
        assert (release.verdict, release.code) == (Verdict.NEEDS_APPROVAL, DecisionCode.UNVERIFIED)
    # Not recorded (an older producer) and verified fixes are unchanged.
    assert decide(cfg(), facts(Stage.FIX, fix_verified=None)).verdict is Verdict.PROCEED
    assert decide(cfg(), facts(Stage.FIX, fix_verified=True)).verdict is Verdict.PROCEED


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(cfg(), facts(now=datetime(2026, 1, 1)))


def test_every_decision_carries_a_typed_code_so_no_caller_reads_the_reason() -> None:
    assert decide(None, facts()).code is DecisionCode.STALE_CONFIG
    assert decide(cfg(active=False), facts()).code is DecisionCode.KILLED
    assert decide(cfg(), facts(paused=True)).code is DecisionCode.PAUSED
    assert all(d.waits_for_operator for d in (decide(None, facts()), decide(cfg(), facts(paused=True))))
    assert decide(cfg(), facts(Stage.FIX, severity=Severity.P4)).code is DecisionCode.NOT_AUTO_HANDLED
    assert decide(cfg(), facts(Stage.ROLLBACK)).code is DecisionCode.ROLLBACK
    assert decide(cfg(), facts(Stage.FIX, rollbacks_for_issue=9)).code is DecisionCode.ROLLBACK_CAP
    assert decide(cfg(AutonomyLevel.MONITOR), facts()).code is DecisionCode.NEEDS_APPROVAL
    assert decide(cfg(AutonomyLevel.MONITOR), facts(approved=True)).code is DecisionCode.APPROVED
    assert decide(cfg(), facts(deploys_today=99)).code is DecisionCode.CAP_REACHED
    assert decide(cfg(), facts(now=NIGHT)).code is DecisionCode.OUTSIDE_HOURS
    assert decide(cfg(), facts()).code is DecisionCode.PROCEED
    blocked_for_now = [decide(cfg(), facts(deploys_today=99)), decide(cfg(), facts(now=NIGHT))]
    assert not any(d.waits_for_operator for d in blocked_for_now)


def test_the_p4_rule_is_one_function_of_the_policy() -> None:
    assert [s for s in Severity if not is_auto_handled(s)] == [Severity.P4]
    refusal = auto_fix_refusal(Severity.P4)
    assert refusal is not None and refusal == decide(cfg(), facts(Stage.FIX, severity=Severity.P4))
    assert auto_fix_refusal(Severity.P3) is None
