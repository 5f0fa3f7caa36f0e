"""The releaser's reactions to control commands and watcher reports: load the run, ask the rule, save.

Each reaction reloads the run, asks ``domain.commands`` what the command or report changes, and has
the worker (:meth:`Rollout.apply`, the one place that records and emits) save it by compare-and-set.
A save that loses a race reloads the run and asks again, a few times at most.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ControlCommand, IssueDetected
from medic_runtime import Emitter

from .domain import commands
from .domain.commands import Refusal, RunChange
from .domain.runs import ReleaseRun
from .worker import Rollout

__all__ = ["approve", "mark_recurrence", "reject", "request_rollback", "update_issue"]

#: How many times a reaction reloads a run that changed under it.
ATTEMPTS = 5


async def approve(w: Rollout, command: ControlCommand) -> bool:
    """Approve a waiting deploy when the approval is ours and bound to the same diff."""
    if not command.approval_id or not commands.is_ours(command, w.target.target.name):
        return False
    approval_id = command.approval_id
    return await _react(w, lambda: w.runs.by_approval(approval_id=approval_id), lambda run: commands.approval(run, command))


async def reject(w: Rollout, command: ControlCommand) -> bool:
    """Reject a waiting deploy (:func:`domain.commands.rejection`)."""
    if not command.approval_id or not commands.is_ours(command, w.target.target.name):
        return False
    approval_id = command.approval_id
    return await _react(w, lambda: w.runs.by_approval(approval_id=approval_id), lambda run: commands.rejection(run, command))


async def request_rollback(w: Rollout, command: ControlCommand) -> bool:
    """A human asks to roll back an issue's release (:func:`domain.commands.rollback_request`)."""
    if not command.issue_id or not commands.is_ours(command, w.target.target.name):
        return False
    issue_id = command.issue_id
    return await _react(
        w, lambda: w.runs.latest_for_issue(issue_id=issue_id), lambda run: commands.rollback_request(run, command)
    )


async def _react(
    w: Rollout,
    load: Callable[[], Awaitable[ReleaseRun | None]],
    rule: Callable[[ReleaseRun | None], RunChange | Refusal | None],
) -> bool:
    """Reload the run, ask the rule, save its change; again when the run changed meanwhile (a few times at most)."""
    for _ in range(ATTEMPTS):
        change = rule(await load())
        if change is None:
            return False
        if isinstance(change, Refusal):
            await w.refuse(change)
            return False
        if await w.apply(change):
            return True
    return False


async def update_issue(w: Rollout, issue: IssueDetected, *, conn: AsyncConnection, emitter: Emitter) -> bool:
    """A severity that rose while a fix is on its way: the gate decides with the issue as it is now.

    The view is kept even before the fix arrives (the watcher often raises the severity while the
    fix is being written): the run made from that fix starts with it.
    """
    known = await w.runs.issue_view(issue_id=issue.issue_id, conn=conn)
    if known is None or issue.severity.rank < known.severity.rank:
        brief = commands.raised(known, issue.brief()) if known else issue.brief()
        await w.runs.remember_issue(conn, issue_id=issue.issue_id, brief=brief)
    for _ in range(ATTEMPTS):
        change = commands.severity_raise(await w.runs.latest_for_issue(issue_id=issue.issue_id, conn=conn), issue)
        if change is None:
            return False
        if await w.apply(change, within=(conn, emitter)):
            return True
    return False


async def mark_recurrence(w: Rollout, issue: IssueDetected, *, verify_s: float, conn: AsyncConnection, emitter: Emitter) -> bool:
    """The watcher saw a fixed issue again (:func:`domain.commands.recurrence`)."""
    for _ in range(ATTEMPTS):
        run = await w.runs.latest_for_issue(issue_id=issue.issue_id, conn=conn)
        change = commands.recurrence(run, issue, now=time.time(), verify_s=verify_s)
        if change is None:
            return False
        if await w.apply(change, within=(conn, emitter)):
            return True
    return False
