"""Release policy as a pure function: ``decide(config, facts) -> Decision``.

Services evaluate it with the configuration they cached from control-api. It fails closed: with no
configuration, while paused, or with the kill switch off, nothing proceeds. Every decision carries
its reason so it can be recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from .config import AutonomyLevel, BusinessHours, MedicConfig
from .events import IssueBrief, Severity

__all__ = [
    "Decision",
    "DecisionCode",
    "PolicyFacts",
    "Stage",
    "Verdict",
    "auto_fix_refusal",
    "decide",
    "is_auto_handled",
    "is_open_for_deploys",
    "next_window_open",
]


class Stage(StrEnum):
    """The step policy is asked about."""

    FIX = "fix"  # commit and push a fix branch, open the PR
    STAGING = "staging"  # merge into staging and deploy it
    PRODUCTION = "production"  # merge into main and deploy production
    ROLLBACK = "rollback"  # roll back an unhealthy release


class Verdict(StrEnum):
    """What policy allows."""

    PROCEED = "proceed"
    NEEDS_APPROVAL = "needs_approval"
    BLOCKED = "blocked"


class DecisionCode(StrEnum):
    """Why policy decided as it did, as a value callers can branch on (the reason is for people)."""

    PROCEED = "proceed"  # within policy
    APPROVED = "approved"  # a human approved what would otherwise need approval
    ROLLBACK = "rollback"  # rolling back an unhealthy release: always allowed while active
    STALE_CONFIG = "stale_config"  # no configuration, or too old to trust: failing closed
    KILLED = "killed"  # the kill switch is off
    PAUSED = "paused"  # an operator paused Medic
    NOT_AUTO_HANDLED = "not_auto_handled"  # P4: never fixed automatically, kept for the weekly review
    ROLLBACK_CAP = "rollback_cap"  # the issue's rollbacks reached the cap: a human is required
    NEEDS_APPROVAL = "needs_approval"  # autonomy level, severity, paths, diff size, evidence or sandbox
    CAP_REACHED = "cap_reached"  # the daily deployment cap
    OUTSIDE_HOURS = "outside_hours"  # outside the business-hours deploy window
    UNVERIFIED = "unverified"  # the fix was not reproduced and verified (or its confidence is too low): a human approves


# Blocks that lift by themselves (an operator resumes, the configuration arrives): ask again later.
_TEMPORARY = frozenset({DecisionCode.STALE_CONFIG, DecisionCode.KILLED, DecisionCode.PAUSED})


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict, its typed code and reason, and when to ask again if it is a temporary block."""

    verdict: Verdict
    reason: str
    retry_at: datetime | None = None
    code: DecisionCode = DecisionCode.PROCEED

    @property
    def proceed(self) -> bool:
        """True when the step may go ahead now."""
        return self.verdict is Verdict.PROCEED

    @property
    def waits_for_operator(self) -> bool:
        """True for a block that lifts without a new decision on this step: paused, kill switch, stale config."""
        return self.code in _TEMPORARY


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """What policy needs to know about the step being decided."""

    issue: IssueBrief
    stage: Stage
    now: datetime
    paused: bool
    deploys_today: int = 0
    rollbacks_for_issue: int = 0
    approved: bool = False
    diff_lines: int = 0
    touches_approval_paths: bool = False
    outside_evidence: bool = False
    # The gating test run's sandbox: None when it was not recorded (a producer before FixCommitted 1.1).
    tests_sandboxed: bool | None = True
    sandbox_missing: tuple[str, ...] = ()
    # The implementer's release gate (FixCommitted 1.3 ``verified``): False when the failure was not reproduced,
    # the fix does not make the reproduction pass, or its confidence is below the threshold. None: not recorded.
    fix_verified: bool | None = True
    unverified_reason: str = ""


def _blocked(code: DecisionCode, reason: str, retry_at: datetime | None = None) -> Decision:
    return Decision(Verdict.BLOCKED, reason, retry_at, code)


def _approval(reason: str, approved: bool, code: DecisionCode = DecisionCode.NEEDS_APPROVAL) -> Decision:
    if approved:
        return Decision(Verdict.PROCEED, f"approved by a human ({reason})", code=DecisionCode.APPROVED)
    return Decision(Verdict.NEEDS_APPROVAL, reason, code=code)


def is_auto_handled(severity: Severity) -> bool:
    """The P4 rule: a P4 issue is never diagnosed or fixed automatically; it waits for the weekly review."""
    return severity is not Severity.P4


def auto_fix_refusal(severity: Severity) -> Decision | None:
    """The blocking decision for an issue Medic does not handle automatically (None when it does).

    Services call this before spending anything on an issue (an LLM diagnosis, a workspace, test
    runs); :func:`decide` gives the same answer for the fix step.
    """
    if is_auto_handled(severity):
        return None
    return _blocked(DecisionCode.NOT_AUTO_HANDLED, f"{severity.value} issues are not auto-fixed; logged for the weekly review")


def _unsandboxed(facts: PolicyFacts) -> str | None:
    """Why a release needs a human because its tests did not run in the full sandbox (None when they did)."""
    if facts.tests_sandboxed is True:
        return None
    if facts.tests_sandboxed is None:
        return "the fix's tests have no sandbox record: a human approves the release"
    missing = ", ".join(facts.sandbox_missing) or "unknown protections"
    return f"the fix's tests ran without a full sandbox (missing: {missing}): a human approves the release"


def _unverified(facts: PolicyFacts) -> str | None:
    """Why a fix needs a human because the release gate did not verify it (None when it did or was not asked)."""
    if facts.fix_verified is not False:
        return None
    return f"the fix was not verified ({facts.unverified_reason or 'not reproduced'}): a human approves it"


def _with_sandbox(reason: str, facts: PolicyFacts) -> str:
    unsandboxed = _unsandboxed(facts)
    return f"{reason}; {unsandboxed}" if unsandboxed else reason


def decide(config: MedicConfig | None, facts: PolicyFacts) -> Decision:
    """Decide whether a step may proceed, needs a human's approval, or is blocked."""
    if facts.now.tzinfo is None:
        raise ValueError("policy needs an aware datetime")
    if config is None:
        return _blocked(DecisionCode.STALE_CONFIG, "configuration unknown or stale: failing closed")
    if not config.active:
        return _blocked(DecisionCode.KILLED, "kill switch: Medic is deactivated")
    if facts.paused:
        return _blocked(DecisionCode.PAUSED, "paused by an operator")

    issue, level = facts.issue, config.autonomy_level
    caps = config.caps

    if facts.stage is Stage.ROLLBACK:
        # Rolling back an unhealthy release is always allowed while active; the cap on rollbacks
        # per issue is enforced when the *next* fix is released.
        return Decision(Verdict.PROCEED, "rollback of an unhealthy release", code=DecisionCode.ROLLBACK)

    if facts.stage is Stage.FIX:
        if (refusal := auto_fix_refusal(issue.severity)) is not None:
            return refusal
        if facts.rollbacks_for_issue >= caps.rollbacks_per_issue:
            return _approval(
                f"{facts.rollbacks_for_issue} rollbacks for this issue: a human is required",
                facts.approved,
                DecisionCode.ROLLBACK_CAP,
            )
        reasons: list[str] = []
        if level is AutonomyLevel.MONITOR:
            reasons.append("autonomy level 1: every change is approved by a human")
        if issue.severity is Severity.P0 and issue.affected_users > caps.p0_approval_affected_users:
            reasons.append(f"P0 affecting {issue.affected_users} users (> {caps.p0_approval_affected_users})")
        if facts.touches_approval_paths:
            reasons.append("the fix touches a path that needs approval")
        if facts.diff_lines > caps.max_diff_lines:
            reasons.append(f"diff of {facts.diff_lines} lines exceeds {caps.max_diff_lines}")
        if facts.outside_evidence:
            reasons.append("the fix touches files outside the evidence")
        if (unverified := _unverified(facts)) is not None:
            return _approval("; ".join([unverified, *reasons]), facts.approved, DecisionCode.UNVERIFIED)
        if reasons:
            return _approval("; ".join(reasons), facts.approved)
        return Decision(Verdict.PROCEED, "fix within policy")

    if facts.rollbacks_for_issue >= caps.rollbacks_per_issue:
        return _approval(
            f"{facts.rollbacks_for_issue} rollbacks for this issue: a human is required",
            facts.approved,
            DecisionCode.ROLLBACK_CAP,
        )

    if facts.stage is Stage.STAGING:
        if level is AutonomyLevel.MONITOR:
            return _approval(_with_sandbox("autonomy level 1: every deploy is approved by a human", facts), facts.approved)
        if (unverified := _unverified(facts)) is not None:
            return _approval(_with_sandbox(unverified, facts), facts.approved, DecisionCode.UNVERIFIED)
        if (unsandboxed := _unsandboxed(facts)) is not None:
            return _approval(unsandboxed, facts.approved)
        return Decision(Verdict.PROCEED, "staging deploys are automatic at level 2 and 3")

    # production
    if facts.deploys_today >= caps.deploys_per_day:
        tomorrow = _local_midnight_after(facts.now, config.business_hours)
        return _blocked(
            DecisionCode.CAP_REACHED,
            f"daily cap reached: {facts.deploys_today} of {caps.deploys_per_day} deployments today",
            tomorrow,
        )
    if issue.severity in config.business_hours.applies_to and not is_open_for_deploys(config.business_hours, facts.now):
        return _blocked(
            DecisionCode.OUTSIDE_HOURS,
            f"{issue.severity.value} deploys only {config.business_hours.start:%H:%M}–{config.business_hours.end:%H:%M} "
            f"{config.business_hours.timezone} on working days",
            next_window_open(config.business_hours, facts.now),
        )
    if level is AutonomyLevel.MONITOR:
        return _approval(_with_sandbox("autonomy level 1: every deploy is approved by a human", facts), facts.approved)
    if (unverified := _unverified(facts)) is not None:
        return _approval(_with_sandbox(unverified, facts), facts.approved, DecisionCode.UNVERIFIED)
    if (unsandboxed := _unsandboxed(facts)) is not None:
        return _approval(unsandboxed, facts.approved)
    if level is AutonomyLevel.AUTO_LOW_RISK:
        low_risk = issue.severity in (Severity.P2, Severity.P3, Severity.P4)
        few_users = issue.affected_users < caps.level2_max_affected_users
        if low_risk and few_users:
            return Decision(Verdict.PROCEED, f"level 2: {issue.severity.value} with {issue.affected_users} affected users")
        why = (
            f"level 2: {issue.severity.value} needs approval"
            if not low_risk
            else f"level 2: {issue.affected_users} affected users (>= {caps.level2_max_affected_users})"
        )
        return _approval(why, facts.approved)
    if issue.severity is Severity.P0 and issue.affected_users > caps.p0_approval_affected_users:
        return _approval(f"P0 affecting {issue.affected_users} users (> {caps.p0_approval_affected_users})", facts.approved)
    return Decision(Verdict.PROCEED, "level 3: full autonomy, notify after")


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int) -> holidays_lib.HolidayBase:
    return holidays_lib.country_holidays(country, subdiv=subdivision, years=year)


def _is_holiday(hours: BusinessHours, day: date) -> bool:
    if not hours.holidays_country:
        return False
    return day in _holidays(hours.holidays_country, hours.holidays_subdivision, day.year)


def _is_working_day(hours: BusinessHours, day: date) -> bool:
    return day.weekday() in hours.working_days and not _is_holiday(hours, day)


def is_open_for_deploys(hours: BusinessHours, now: datetime) -> bool:
    """True when ``now`` falls inside the deploy window (working day, between start and end)."""
    local = now.astimezone(ZoneInfo(hours.timezone))
    return _is_working_day(hours, local.date()) and hours.start <= local.time() < hours.end


def next_window_open(hours: BusinessHours, now: datetime) -> datetime:
    """When the deploy window next opens at or after ``now`` (``now`` itself when it is open)."""
    if is_open_for_deploys(hours, now):
        return now
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    day = local.date()
    if local.time() >= hours.start:
        day += timedelta(days=1)
    for _ in range(366):
        if _is_working_day(hours, day):
            return datetime.combine(day, hours.start, tzinfo=zone)
        day += timedelta(days=1)
    raise ValueError("no working day within a year: check business_hours.working_days")


def _local_midnight_after(now: datetime, hours: BusinessHours) -> datetime:
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
