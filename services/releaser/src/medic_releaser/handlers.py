"""Subscribers of the releaser: translate events and commands into one worker or reaction call, nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from medic_contracts import ActionStatus, CommandName, ControlCommand, FixCommitted, IssueDetected, TopicName
from medic_runtime import HandlerContext, ServiceRuntime

from . import reactions
from .worker import Rollout

__all__ = ["Releaser", "register", "register_unconfigured"]

#: How long after promotion a recurrence reported by the watcher still reopens the issue.
VERIFY_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Releaser:
    """What the handlers need."""

    rt: ServiceRuntime
    rollout: Rollout
    target: str


def register(releaser: Releaser) -> None:
    """Subscribe the releaser's handlers, command reactions and the release worker."""
    rt, rollout, target = releaser.rt, releaser.rollout, releaser.target

    @rt.consume(TopicName.FIXES_COMMITTED, FixCommitted)
    async def on_fix(event: FixCommitted, ctx: HandlerContext) -> None:
        await rollout.accept(event, conn=ctx.conn, emitter=ctx, headers=ctx.delivery.headers)

    @rt.consume(TopicName.ISSUES_DETECTED, IssueDetected)
    async def on_issue(event: IssueDetected, ctx: HandlerContext) -> None:
        if event.target != target:
            return
        if not await reactions.mark_recurrence(rollout, event, verify_s=VERIFY_S, conn=ctx.conn, emitter=ctx):
            await reactions.update_issue(rollout, event, conn=ctx.conn, emitter=ctx)

    @rt.on_command(CommandName.APPROVE)
    async def on_approve(command: ControlCommand) -> None:
        await reactions.approve(rollout, command)

    @rt.on_command(CommandName.REJECT)
    async def on_reject(command: ControlCommand) -> None:
        await reactions.reject(rollout, command)

    @rt.on_command(CommandName.ROLLBACK)
    async def on_rollback(command: ControlCommand) -> None:
        await reactions.request_rollback(rollout, command)


def register_unconfigured(rt: ServiceRuntime) -> None:
    """Without a target file: every fix is recorded as not released (never a fabricated success)."""

    @rt.consume(TopicName.FIXES_COMMITTED, FixCommitted)
    async def on_fix(event: FixCommitted, ctx: HandlerContext) -> None:
        ctx.record(
            "releaser.unconfigured",
            ActionStatus.FAILED,
            f"fix {event.commit_sha[:12]} for {event.issue_id} not released: no target configured (MEDIC_TARGET_FILE)",
            issue_id=event.issue_id,
            caused_by=event,
        )
