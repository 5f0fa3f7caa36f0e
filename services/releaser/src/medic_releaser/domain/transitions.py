"""Where a release run goes next: every rollout transition as a pure function returning a typed verdict.

The job steps (``job/``) gather the facts (the policy's decision, the deployer's status, the watch's
samples) and act on the verdict; the rules themselves — when to wait, proceed, promote, roll back,
reopen or give up — are decided here, without I/O, so "why did the run do that?" has one answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from medic_contracts import (
    CheckVerdict,
    Decision,
    DeploymentOutcome,
    DeploymentStage,
    MedicConfig,
    Verdict,
    decide_recurrence,
    recurrence_outcome,
)

from .analysis import CheckName
from .runs import DeploymentStatus, Phase, ReleaseRun, RunStatus, StageState

__all__ = [
    "BASELINE_ATTEMPTS",
    "BaselineAction",
    "BaselineStep",
    "DeployAction",
    "Finish",
    "GateAction",
    "GateStep",
    "ManualRollback",
    "RecurrenceAction",
    "Step",
    "WatchAction",
    "WatchStep",
    "approval_ttl",
    "baseline_step",
    "deploy_step",
    "gate_step",
    "manual_rollback",
    "next_stage",
    "next_step",
    "recurrence_step",
    "revert_stages",
    "rollback_status",
    "slots_for",
    "smoke_verdict",
    "watch_end",
    "watch_interrupt",
    "watch_sample_failed",
]

STAGING, PRODUCTION = DeploymentStage.STAGING, DeploymentStage.PRODUCTION
#: Attempts at measuring a baseline before the run gives up without merging anything.
BASELINE_ATTEMPTS = 3


# ---- which step, which slots -------------------------------------------------------------------


class Step(StrEnum):
    """The step a run takes next."""

    MANUAL_ROLLBACK = "manual_rollback"  # a human asked for a rollback before or between watches
    GATE = "gate"
    BASELINE = "baseline"
    MERGE = "merge"
    DEPLOY = "deploy"
    SMOKE = "smoke"
    WATCH = "watch"
    ROLLBACK = "rollback"
    NONE = "none"  # done: nothing to do


def next_step(run: ReleaseRun) -> Step:
    """The step for the run's phase; a pending manual rollback comes first (a watch sees it at its next sample)."""
    if run.rollback_requested_by and run.phase not in (Phase.ROLLBACK, Phase.DONE, Phase.WATCH):
        return Step.MANUAL_ROLLBACK
    return Step.NONE if run.phase is Phase.DONE else Step(run.phase.value)


def slots_for(run: ReleaseRun) -> tuple[DeploymentStage, ...]:
    """The stage slots a run needs now.

    Every run holds staging's until it finishes: production merges the staging branch, so another
    fix on staging meanwhile would ride along. A production rollback (a reopen, a human's) needs only
    production's: it must not wait behind another fix's staging watch, and reverting our merge on the
    staging branch does not touch what that fix has deployed there.
    """
    if run.stage is STAGING:
        return (STAGING,)
    return (PRODUCTION,) if run.phase is Phase.ROLLBACK else (STAGING, PRODUCTION)


@dataclass(frozen=True, slots=True)
class Finish:
    """How a run ends: the outcome announced, why, the checks behind it, and the run's final status."""

    outcome: DeploymentOutcome
    reason: str
    status: RunStatus
    checks: tuple[CheckVerdict, ...] = ()


# ---- manual rollback ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManualRollback:
    """A human's rollback before or between watches: cancel (nothing deployed) or roll ``stage`` back."""

    cancel: bool
    stage: DeploymentStage
    reason: str


def manual_rollback(run: ReleaseRun) -> ManualRollback:
    """Undo what is deployed, or cancel when nothing is; before production deployed, staging runs the fix."""
    who = run.rollback_requested_by
    stage = STAGING if run.stage is PRODUCTION and run.production.deploy_key is None else run.stage
    if run.state(stage).deploy_key is None:
        return ManualRollback(cancel=True, stage=stage, reason=f"cancelled by {who} before anything was deployed")
    return ManualRollback(cancel=False, stage=stage, reason=f"manual rollback by {who}")


# ---- gate --------------------------------------------------------------------------------------


class GateAction(StrEnum):
    """What the gate step does with the policy's decision."""

    PROCEED = "proceed"
    REQUEST_APPROVAL = "request_approval"
    AWAIT_APPROVAL = "await_approval"
    APPROVAL_EXPIRED = "approval_expired"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class GateStep:
    """The gate's verdict: its action, the key that dedups announcements, and when to ask again."""

    action: GateAction
    key: str
    announce: bool = False  # blocked for a reason not announced yet: record, emit and notify it
    retry_s: float | None = None


def approval_ttl(config: MedicConfig | None) -> timedelta:
    """How long a deploy approval may wait (a day without configuration)."""
    return timedelta(minutes=config.approval_ttl_minutes if config else 24 * 60)


def gate_step(
    *,
    decision: Decision,
    stage: DeploymentStage,
    state: StageState,
    last_verdict: str | None,
    approval_ttl_s: float,
    now: datetime,
    now_s: float,
    blocked_retry_s: float,
) -> GateStep:
    """Proceed, ask for (or wait on, or expire) an approval, or stay blocked until the next opening or sooner."""
    key = f"{stage.value}:{decision.verdict.value}:{decision.reason}"
    if decision.proceed:
        return GateStep(GateAction.PROCEED, key)
    if decision.verdict is Verdict.NEEDS_APPROVAL:
        if not state.approval_requested:
            return GateStep(GateAction.REQUEST_APPROVAL, key)
        if state.approval_requested_at and now_s > state.approval_requested_at + approval_ttl_s:
            return GateStep(GateAction.APPROVAL_EXPIRED, key)
        return GateStep(GateAction.AWAIT_APPROVAL, key)
    # Ask again at the next opening, or sooner: a config change (caps, hours, level) may unblock it.
    delay = blocked_retry_s
    if decision.retry_at is not None:
        delay = min(max((decision.retry_at - now).total_seconds(), 0.1), blocked_retry_s)
    return GateStep(GateAction.BLOCKED, key, announce=last_verdict != key, retry_s=delay)


# ---- baseline ----------------------------------------------------------------------------------


class BaselineAction(StrEnum):
    """What a measured baseline leads to."""

    PROCEED = "proceed"  # complete: record what serves now and merge
    RETRY = "retry"  # gaps: measure again
    GIVE_UP = "give_up"  # gaps after every attempt, nothing merged: the run fails
    ROLL_BACK_STAGING = "roll_back_staging"  # gaps on production: staging already runs the fix, undo it


@dataclass(frozen=True, slots=True)
class BaselineStep:
    """The baseline's verdict, the attempts counted so far and why."""

    action: BaselineAction
    attempts: int
    reason: str = ""


def baseline_step(*, gaps: Sequence[CheckVerdict], attempts: int, stage: DeploymentStage) -> BaselineStep:
    """Without a baseline the watch cannot tell a regression from normal: never deploy on one with gaps."""
    if not gaps:
        return BaselineStep(BaselineAction.PROCEED, attempts)
    attempts += 1
    why = "; ".join(v.detail for v in gaps)
    if attempts < BASELINE_ATTEMPTS:
        return BaselineStep(BaselineAction.RETRY, attempts, why)
    reason = f"no {stage.value} baseline after {attempts} attempt(s): {why}; missing data counts as failing"
    if stage is PRODUCTION:
        return BaselineStep(BaselineAction.ROLL_BACK_STAGING, attempts, reason)
    return BaselineStep(BaselineAction.GIVE_UP, attempts, f"{reason}; nothing was merged")


# ---- deploy and smoke --------------------------------------------------------------------------


class DeployAction(StrEnum):
    """What the deployer's status of a started deployment leads to."""

    WAIT = "wait"  # still building
    TIMED_OUT = "timed_out"  # building for longer than the deploy timeout: roll back
    FAILED = "failed"  # the build failed: roll back
    ACTIVATE = "activate"  # ready: switch the stage to it


def deploy_step(*, status: DeploymentStatus, elapsed_s: float, timeout_s: float) -> DeployAction:
    """Wait for a building deployment until the timeout, roll back a failed one, activate a ready one."""
    if status is DeploymentStatus.BUILDING:
        return DeployAction.TIMED_OUT if elapsed_s > timeout_s else DeployAction.WAIT
    if status is DeploymentStatus.ERROR:
        return DeployAction.FAILED
    return DeployAction.ACTIVATE


def smoke_verdict(results: Sequence[tuple[object, bool, str]]) -> CheckVerdict:
    """One verdict over the smoke checks' ``(check, ok, why)`` results: any failure fails it."""
    failed = [why for _, ok, why in results if not ok]
    return CheckVerdict(
        name=CheckName.SMOKE,
        passed=not failed,
        value=float(len(failed)),
        threshold=0.0,
        detail="; ".join(failed) if failed else f"{len(results)} smoke check(s) passed",
    )


# ---- watch -------------------------------------------------------------------------------------


class WatchAction(StrEnum):
    """What the watch does now."""

    SAMPLE = "sample"  # the window is not observed yet: take the next sample
    PROMOTE = "promote"  # every check held over the observed window
    ROLL_BACK = "roll_back"  # a check failed, a human asked, or the fixed error recurred


@dataclass(frozen=True, slots=True)
class WatchStep:
    """The watch's verdict, with the outcome a rollback announces and the verdicts behind it."""

    action: WatchAction
    reason: str = ""
    outcome: DeploymentOutcome = DeploymentOutcome.ROLLED_BACK
    verdicts: tuple[CheckVerdict, ...] = ()


def watch_interrupt(run: ReleaseRun) -> WatchStep | None:
    """A human's rollback or a recurrence the watcher reported ends the watch before the next sample."""
    if run.rollback_requested_by:
        return WatchStep(WatchAction.ROLL_BACK, f"manual rollback by {run.rollback_requested_by}")
    if run.recurred:
        verdict = CheckVerdict(name=CheckName.RECURRENCE, passed=False, detail="the watcher saw the fixed issue again")
        return WatchStep(WatchAction.ROLL_BACK, "the fixed error recurred", recurrence_outcome(run.stage), (verdict,))
    return None


def watch_end(verdicts: Sequence[CheckVerdict]) -> WatchStep:
    """At the end of an observed window: promote when every verdict passed, else roll back with the failures."""
    bad = [v for v in verdicts if not v.passed]
    if bad:
        return WatchStep(WatchAction.ROLL_BACK, "; ".join(f"{v.name}: {v.detail}" for v in bad), verdicts=tuple(verdicts))
    return WatchStep(WatchAction.PROMOTE, verdicts=tuple(verdicts))


def watch_sample_failed(*, failed: Sequence[CheckVerdict], verdicts: Sequence[CheckVerdict], stage: DeploymentStage) -> WatchStep:
    """Checks failed on a sample: roll back at once; a recurrence of the fixed error reopens in production."""
    if not failed:
        return WatchStep(WatchAction.SAMPLE)
    reason = "; ".join(f"{v.name}: {v.detail}" for v in failed)
    recurred = any(v.name == CheckName.RECURRENCE for v in failed)
    outcome = recurrence_outcome(stage) if recurred else DeploymentOutcome.ROLLED_BACK
    return WatchStep(WatchAction.ROLL_BACK, reason, outcome, tuple(verdicts))


def next_stage(stage: DeploymentStage) -> DeploymentStage | None:
    """After a promotion: production follows staging; after production the run is done."""
    return PRODUCTION if stage is STAGING else None


# ---- rollback ----------------------------------------------------------------------------------


def rollback_status(outcome: DeploymentOutcome) -> RunStatus:
    """The run's final status after a rollback announced as ``outcome``."""
    if outcome is DeploymentOutcome.REOPENED:
        return RunStatus.REOPENED
    return RunStatus.FAILED if outcome is DeploymentOutcome.FAILED else RunStatus.ROLLED_BACK


def revert_stages(stage: DeploymentStage) -> tuple[DeploymentStage, ...]:
    """The branches a rollback reverts: its stage's; production's also reverts staging's (it merged staging)."""
    return (stage,) if stage is STAGING else (PRODUCTION, STAGING)


# ---- recurrence reported by the watcher --------------------------------------------------------


class RecurrenceAction(StrEnum):
    """What a watcher's report of the fixed issue does to its latest run."""

    IGNORE = "ignore"  # not a recurrence (before the fix reached production, or after verification), or no watch to fail
    REOPEN = "reopen"  # promoted: reopen the issue, redeploy and revert
    FAIL_WATCH = "fail_watch"  # production is being watched: the watch fails at its next sample


def recurrence_step(run: ReleaseRun, *, seen_at: datetime, now: float, verify_s: float) -> RecurrenceAction:
    """The shared recurrence rule (:func:`medic_contracts.decide_recurrence`) applied to a run.

    The fix reaches production when production's deploy starts: while staging is watched, production
    still runs the bug, and an occurrence then is not a recurrence. A promoted run is reopened for
    ``verify_s`` after promotion.
    """
    fixed_at = run.production.deploy_started_at
    if run.status is RunStatus.PROMOTED:
        verdict = decide_recurrence(seen_at=seen_at, fixed_at=fixed_at, now=now, verify_until=run.updated_at + verify_s)
        return RecurrenceAction.REOPEN if verdict.recurred else RecurrenceAction.IGNORE
    if not decide_recurrence(seen_at=seen_at, fixed_at=fixed_at).recurred:
        return RecurrenceAction.IGNORE
    if run.status.finished or run.phase is not Phase.WATCH or run.stage is not PRODUCTION:
        return RecurrenceAction.IGNORE
    return RecurrenceAction.FAIL_WATCH
