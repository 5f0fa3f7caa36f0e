"""What the releaser does when events and commands arrive (keyword-only service functions).

Handlers call these; each changes runs by compare-and-set and records what it did. Long work is
never done here: a run is queued for the ``release`` worker.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionStatus,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    Envelope,
    FixCommitted,
    IssueBrief,
    IssueDetected,
)
from medic_runtime import Emitter, ServiceRuntime

from .adapters.store import RunStore
from .domain.errors import RunConflict
from .domain.runs import Phase, ReleaseRun, RunStatus, run_id_for
from .domain.transitions import RecurrenceAction, recurrence_step

__all__ = ["RELEASE_WORK", "accept_fix", "approve", "mark_recurrence", "reject", "request_rollback"]

RELEASE_WORK = "release"


async def accept_fix(
    *,
    rt: ServiceRuntime,
    runs: RunStore,
    conn: AsyncConnection,
    emitter: Emitter,
    fix: FixCommitted,
    target: str,
    headers: dict[str, str] | None = None,
) -> ReleaseRun | None:
    """Create the release run for a committed fix and queue it (priority = severity rank)."""
    if fix.issue.target != target:
        emitter.record(
            "releaser.skipped",
            ActionStatus.SKIPPED,
            f"fix for target {fix.issue.target!r} ignored: this releaser serves {target!r}",
            issue_id=fix.issue_id,
            caused_by=fix,
        )
        return None
    now = time.time()
    run = ReleaseRun(run_id=run_id_for(fix), issue_id=fix.issue_id, target=target, fix=fix, created_at=now, updated_at=now)
    seen = await runs.issue_view(issue_id=fix.issue_id, conn=conn)
    if seen is not None and seen.severity.rank < fix.issue.severity.rank:
        run = run.model_copy(update={"issue_update": _raised(fix.issue, seen)})
    created = await runs.create(conn, run=run)
    await rt.work.enqueue(
        conn,
        kind=RELEASE_WORK,
        dedup_key=f"{RELEASE_WORK}:{run.run_id}",
        payload={"run_id": run.run_id},
        priority=run.issue.severity.rank,
        issue_id=fix.issue_id,
        headers=headers,
        max_attempts=10,
    )
    if created:
        emitter.record(
            "releaser.accepted",
            ActionStatus.SUCCEEDED,
            f"release {run.run_id} queued for {fix.commit_sha[:12]} on {fix.branch}",
            issue_id=fix.issue_id,
            caused_by=fix,
            details={"run_id": run.run_id},
        )
        if rt.paused:
            emitter.record(
                "releaser.gate",
                ActionStatus.REFUSED,
                f"release {run.run_id} waits: {rt.control.pause_reason}",
                issue_id=fix.issue_id,
                caused_by=fix,
                details={"run_id": run.run_id},
            )
    return run


async def _save(
    rt: ServiceRuntime,
    runs: RunStore,
    run: ReleaseRun,
    *,
    action: str,
    status: ActionStatus,
    summary: str,
    enqueue: str | None = None,
    emit: tuple[Envelope, ...] = (),
    within: tuple[AsyncConnection, Emitter] | None = None,
) -> bool:
    """Save ``run`` by compare-and-set with its audit record (in ``within``'s transaction when given)."""

    async def write(conn: AsyncConnection, emitter: Emitter) -> None:
        await runs.save(conn, run=run)
        emitter.record(action, status, summary, issue_id=run.issue_id, details={"run_id": run.run_id})
        for event in emit:
            emitter.emit(event)
        if enqueue:
            await rt.work.enqueue(
                conn,
                kind=RELEASE_WORK,
                dedup_key=enqueue,
                payload={"run_id": run.run_id},
                priority=run.issue.severity.rank,
                issue_id=run.issue_id,
                max_attempts=10,
            )

    try:
        if within is not None:
            await write(*within)
        else:
            async with rt.transaction() as tx:
                await write(tx.conn, tx)
    except RunConflict:
        return False
    return True


async def _audit(rt: ServiceRuntime, action: str, status: ActionStatus, summary: str, issue_id: str | None) -> None:
    async with rt.transaction() as tx:
        tx.record(action, status, summary, issue_id=issue_id)


def _ours(command: ControlCommand, target: str) -> bool:
    return command.target in (None, target)


async def approve(*, rt: ServiceRuntime, runs: RunStore, command: ControlCommand, target: str) -> bool:
    """Approve a waiting deploy when the approval is ours and bound to the same diff."""
    if not command.approval_id or not _ours(command, target):
        return False
    for _ in range(5):
        run = await runs.by_approval(approval_id=command.approval_id)
        if run is None or run.status is not RunStatus.AWAITING_APPROVAL:
            return False
        if command.diff_hash != run.fix.diff_hash:
            await _audit(
                rt,
                "releaser.approval",
                ActionStatus.REFUSED,
                f"approval {command.approval_id} by {command.actor} refused: bound to diff {command.diff_hash!r}, "
                f"the release is {run.fix.diff_hash!r}",
                run.issue_id,
            )
            return False
        state = run.state().model_copy(update={"approved_by": command.actor})
        updated = run.model_copy(update={run.stage.value: state, "status": RunStatus.ACTIVE})
        if await _save(
            rt,
            runs,
            updated,
            action="releaser.approval",
            status=ActionStatus.SUCCEEDED,
            summary=f"{run.stage.value} deploy approved by {command.actor}",
        ):
            rt.work.wake()
            return True
    return False


async def reject(*, rt: ServiceRuntime, runs: RunStore, command: ControlCommand, target: str) -> bool:
    """Reject a waiting deploy: nothing more is deployed; a rejected production step also undoes staging.

    Staging already runs the fix when production is rejected: it is rolled back (redeploy, revert) so the
    next release's staging → main merge cannot carry a fix a human turned down.
    """
    if not command.approval_id or not _ours(command, target):
        return False
    for _ in range(5):
        run = await runs.by_approval(approval_id=command.approval_id)
        if run is None or run.status is not RunStatus.AWAITING_APPROVAL:
            return False
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
        result = run.fix.follow_up(
            DeploymentResult,
            producer=rt.producer,
            issue=run.issue,
            run_id=run.run_id,
            stage=run.stage,
            outcome=DeploymentOutcome.BLOCKED,
            commit_sha=run.fix.commit_sha,
            reason=reason,
            approval_id=state.approval_id,
        )
        if await _save(
            rt,
            runs,
            updated,
            action="releaser.approval",
            status=ActionStatus.REFUSED,
            summary=f"{run.stage.value} deploy {reason}",
            emit=(result,),
            enqueue=enqueue,
        ):
            return True
    return False


async def request_rollback(*, rt: ServiceRuntime, runs: RunStore, command: ControlCommand, target: str) -> bool:
    """A human asks to roll back an issue's release: mid-watch at the next sample, after promotion at once."""
    if not command.issue_id or not _ours(command, target):
        return False
    for _ in range(5):
        run = await runs.latest_for_issue(issue_id=command.issue_id)
        if run is None:
            return False
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
            key = f"{RELEASE_WORK}:{run.run_id}:rollback:{run.version}"
            if await _save(
                rt,
                runs,
                updated,
                action="releaser.rollback",
                status=ActionStatus.STARTED,
                summary=f"manual rollback of {run.run_id} requested by {command.actor}",
                enqueue=key,
            ):
                return True
            continue
        if run.status.finished:
            return False
        # Mid-watch it fails the watch at the next sample; before or between watches the worker undoes or cancels.
        updated = run.model_copy(update={"rollback_requested_by": command.actor})
        # A fresh work item acts now; the run's waiting item finds the run changed when it wakes.
        if await _save(
            rt,
            runs,
            updated,
            action="releaser.rollback",
            status=ActionStatus.STARTED,
            summary=f"manual rollback of {run.run_id} requested by {command.actor}",
            enqueue=f"{RELEASE_WORK}:{run.run_id}:rollback:{run.version}",
        ):
            return True
    return False


async def update_issue(
    *, rt: ServiceRuntime, runs: RunStore, issue: IssueDetected, conn: AsyncConnection, emitter: Emitter
) -> bool:
    """A severity that rose while a fix is on its way: the gate decides with the issue as it is now.

    The view is kept even before the fix arrives (the watcher often raises the severity while the
    fix is being written): the run made from that fix starts with it.
    """
    known = await runs.issue_view(issue_id=issue.issue_id, conn=conn)
    if known is None or issue.severity.rank < known.severity.rank:
        await runs.remember_issue(conn, issue_id=issue.issue_id, brief=_raised(known, issue.brief()) if known else issue.brief())
    for _ in range(5):
        run = await runs.latest_for_issue(issue_id=issue.issue_id, conn=conn)
        if run is None or run.status.finished or issue.severity.rank >= run.issue.severity.rank:
            return False
        brief = _raised(run.issue, issue.brief())
        summary = f"issue {issue.issue_id} is now {issue.severity.value} ({issue.affected_users} users): the gate uses it"
        if await _save(
            rt,
            runs,
            run.model_copy(update={"issue_update": brief}),
            action="releaser.issue_updated",
            status=ActionStatus.SUCCEEDED,
            summary=summary,
            within=(conn, emitter),
        ):
            return True
    return False


def _raised(brief: IssueBrief, seen: IssueBrief) -> IssueBrief:
    """``brief`` with the severity, users and deadline of a more severe view of the same issue."""
    return brief.model_copy(
        update={
            "severity": seen.severity,
            "affected_users": max(seen.affected_users, brief.affected_users),
            "deadline": seen.deadline or brief.deadline,
        }
    )


async def mark_recurrence(
    *, rt: ServiceRuntime, runs: RunStore, issue: IssueDetected, verify_s: float, conn: AsyncConnection, emitter: Emitter
) -> bool:
    """The watcher saw a fixed issue again: mid-watch it fails the watch, after promotion it reopens and reverts.

    Whether it is a recurrence is :func:`domain.transitions.recurrence_step` (the shared rule).
    """
    for _ in range(5):
        run = await runs.latest_for_issue(issue_id=issue.issue_id, conn=conn)
        if run is None:
            return False
        action = recurrence_step(run, seen_at=issue.last_seen, now=time.time(), verify_s=verify_s)
        if action is RecurrenceAction.IGNORE:
            return False
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
            key = f"{RELEASE_WORK}:{run.run_id}:reopen:{run.version}"
            if await _save(
                rt,
                runs,
                updated,
                action="releaser.reopen",
                status=ActionStatus.STARTED,
                summary=f"issue {issue.issue_id} recurred after promotion: reopening and reverting",
                enqueue=key,
                within=(conn, emitter),
            ):
                return True
            continue
        updated = run.model_copy(update={"recurred": True})
        if await _save(
            rt,
            runs,
            updated,
            action="releaser.reopen",
            status=ActionStatus.STARTED,
            summary=f"issue {issue.issue_id} recurred during the {run.stage.value} watch",
            within=(conn, emitter),
        ):
            return True
    return False
