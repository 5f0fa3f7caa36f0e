"""What a control command or a watcher report does to a release run: pure rules returning a typed change.

Each rule looks at the run as stored and the command (or the watcher's issue) and returns a
:class:`RunChange` (the run as it should be saved, the audit record, what to announce and which work
item to queue), a :class:`Refusal` (audited, nothing changes) or ``None`` (not ours, or nothing to
do). The worker saves the change by compare-and-set with its record in one transaction; on a
conflict the caller reloads the run and asks the rule again.
"""

from __future__ import annotations

from dataclasses import dataclass

from medic_contracts import (
    ActionStatus,
    ControlCommand,
    DeploymentOutcome,
    DeploymentStage,
    FixCommitted,
    IssueBrief,
    IssueDetected,
)

from .runs import Phase, ReleaseRun, RunStatus, run_id_for
from .transitions import RecurrenceAction, recurrence_step

__all__ = [
    "RELEASE_WORK",
    "Refusal",
    "RunChange",
    "approval",
    "is_ours",
    "new_run",
    "raised",
    "recurrence",
    "rejection",
    "rollback_request",
    "severity_raise",
]

#: The work-queue kind of a release run.
RELEASE_WORK = "release"


@dataclass(frozen=True, slots=True)
class RunChange:
    """The run to save, the audit record that goes with it, and what follows from it."""

    run: ReleaseRun
    action: str
    status: ActionStatus
    summary: str
    #: Queue a work item with this dedup key (the worker acts on the change now).
    enqueue: str | None = None
    #: Announce this stage outcome (a DeploymentResult) with the save.
    announce: DeploymentOutcome | None = None
    #: The reason the announcement gives.
    reason: str = ""
    #: Wake the release worker after the save (a run that waited can go on).
    wake: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command refused: audited, the run unchanged."""

    action: str
    summary: str
    issue_id: str


def is_ours(command: ControlCommand, target: str) -> bool:
    """A command for every target, or for this one."""
    return command.target in (None, target)


def new_run(fix: FixCommitted, *, target: str, seen: IssueBrief | None, now: float) -> ReleaseRun | None:
    """The release run of a committed fix for ``target`` (``None``: the fix is for another target).

    A more severe view of the issue the watcher published before the fix arrived is kept (``seen``).
    """
    if fix.issue.target != target:
        return None
    run = ReleaseRun(run_id=run_id_for(fix), issue_id=fix.issue_id, target=target, fix=fix, created_at=now, updated_at=now)
    if seen is not None and seen.severity.rank < fix.issue.severity.rank:
        run = run.model_copy(update={"issue_update": raised(fix.issue, seen)})
    return run


def approval(run: ReleaseRun | None, command: ControlCommand) -> RunChange | Refusal | None:
    """Approve the waiting deploy, but only when the approval is bound to the diff the run releases."""
    if run is None or run.status is not RunStatus.AWAITING_APPROVAL:
        return None
    if command.diff_hash != run.fix.diff_hash:
        return Refusal(
            "releaser.approval",
            f"approval {command.approval_id} by {command.actor} refused: bound to diff {command.diff_hash!r}, "
            f"the release is {run.fix.diff_hash!r}",
            run.issue_id,
        )
    state = run.state().model_copy(update={"approved_by": command.actor})
    return RunChange(
        run.model_copy(update={run.stage.value: state, "status": RunStatus.ACTIVE}),
        "releaser.approval",
        ActionStatus.SUCCEEDED,
        f"{run.stage.value} deploy approved by {command.actor}",
        wake=True,
    )


def rejection(run: ReleaseRun | None, command: ControlCommand) -> RunChange | None:
    """Reject the waiting deploy: nothing more is deployed; a rejected production step also undoes staging.

    Staging already runs the fix when production is rejected: it is rolled back (redeploy, revert) so the
    next release's staging → main merge cannot carry a fix a human turned down.
    """
    if run is None or run.status is not RunStatus.AWAITING_APPROVAL:
        return None
    reason = f"rejected by {command.actor}" + (f": {command.reason}" if command.reason else "")
    state = run.state()
    enqueue = None
    if run.stage is DeploymentStage.PRODUCTION:
        updated = run.model_copy(
            update={
                "status": RunStatus.ACTIVE,
                "reason": reason,
                "rollback_requested_by": f"{command.actor} (production rejected)",
                "production": state.model_copy(update={"outcome": "rejected"}),
            }
        )
        enqueue = f"{RELEASE_WORK}:{run.run_id}:rejected:{run.version}"
    else:
        updated = run.model_copy(
            update={
                "status": RunStatus.REJECTED,
                "phase": Phase.DONE,
                "reason": reason,
                run.stage.value: state.model_copy(update={"outcome": "rejected"}),
            }
        )
    return RunChange(
        updated,
        "releaser.approval",
        ActionStatus.REFUSED,
        f"{run.stage.value} deploy {reason}",
        enqueue=enqueue,
        announce=DeploymentOutcome.BLOCKED,
        reason=reason,
    )


def rollback_request(run: ReleaseRun | None, command: ControlCommand) -> RunChange | None:
    """A human asks to roll back: after promotion at once; mid-watch at the next sample; before, the worker undoes."""
    if run is None:
        return None
    summary = f"manual rollback of {run.run_id} requested by {command.actor}"
    key = f"{RELEASE_WORK}:{run.run_id}:rollback:{run.version}"
    if run.status is RunStatus.PROMOTED:
        updated = run.model_copy(
            update={
                "status": RunStatus.ACTIVE,
                "phase": Phase.ROLLBACK,
                "rollback_reason": f"manual rollback by {command.actor}",
                "production": run.production.model_copy(
                    update={"outcome": "rolled_back", "redeployed": False, "reverted_sha": None}
                ),
            }
        )
        return RunChange(updated, "releaser.rollback", ActionStatus.STARTED, summary, enqueue=key)
    if run.status.finished:
        return None
    # Mid-watch it fails the watch at the next sample; before or between watches the worker undoes or cancels.
    # A fresh work item acts now; the run's waiting item finds the run changed when it wakes.
    updated = run.model_copy(update={"rollback_requested_by": command.actor})
    return RunChange(updated, "releaser.rollback", ActionStatus.STARTED, summary, enqueue=key)


def severity_raise(run: ReleaseRun | None, issue: IssueDetected) -> RunChange | None:
    """A severity that rose while the fix is on its way: the gate decides with the issue as it is now."""
    if run is None or run.status.finished or issue.severity.rank >= run.issue.severity.rank:
        return None
    return RunChange(
        run.model_copy(update={"issue_update": raised(run.issue, issue.brief())}),
        "releaser.issue_updated",
        ActionStatus.SUCCEEDED,
        f"issue {issue.issue_id} is now {issue.severity.value} ({issue.affected_users} users): the gate uses it",
    )


def recurrence(run: ReleaseRun | None, issue: IssueDetected, *, now: float, verify_s: float) -> RunChange | None:
    """The watcher saw a fixed issue again: mid-watch it fails the watch, after promotion it reopens and reverts.

    Whether it is a recurrence is :func:`transitions.recurrence_step` (the shared rule).
    """
    if run is None:
        return None
    action = recurrence_step(run, seen_at=issue.last_seen, now=now, verify_s=verify_s)
    if action is RecurrenceAction.IGNORE:
        return None
    if action is RecurrenceAction.REOPEN:
        updated = run.model_copy(
            update={
                "status": RunStatus.ACTIVE,
                "phase": Phase.ROLLBACK,
                "recurred": True,
                "rollback_reason": f"the fixed error recurred after promotion ({issue.title[:200]})",
                "production": run.production.model_copy(
                    update={"outcome": "reopened", "redeployed": False, "reverted_sha": None}
                ),
            }
        )
        return RunChange(
            updated,
            "releaser.reopen",
            ActionStatus.STARTED,
            f"issue {issue.issue_id} recurred after promotion: reopening and reverting",
            enqueue=f"{RELEASE_WORK}:{run.run_id}:reopen:{run.version}",
        )
    return RunChange(
        run.model_copy(update={"recurred": True}),
        "releaser.reopen",
        ActionStatus.STARTED,
        f"issue {issue.issue_id} recurred during the {run.stage.value} watch",
    )


def raised(brief: IssueBrief, seen: IssueBrief) -> IssueBrief:
    """``brief`` with the severity, users and deadline of a more severe view of the same issue."""
    return brief.model_copy(
        update={
            "severity": seen.severity,
            "affected_users": max(seen.affected_users, brief.affected_users),
            "deadline": seen.deadline or brief.deadline,
        }
    )
