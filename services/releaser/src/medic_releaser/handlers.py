"""Subscribers of the releaser: translate events and commands into service calls, nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from medic_contracts import ActionStatus, CommandName, ControlCommand, FixCommitted, IssueDetected, TopicName
from medic_runtime import HandlerContext, ServiceRuntime

from . import service
from .adapters.store import RunStore
from .worker import Rollout

__all__ = ["Releaser", "register", "register_unconfigured"]

#: How long after promotion a recurrence reported by the watcher still reopens the issue.
VERIFY_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Releaser:
    """What the handlers need."""

    rt: ServiceRuntime
    runs: RunStore
    rollout: Rollout
    target: str


def register(releaser: Releaser) -> None:
    """Subscribe the releaser's handlers, command reactions and the release worker."""
    rt, runs, target = releaser.rt, releaser.runs, releaser.target

    @rt.consume(TopicName.FIXES_COMMITTED, FixCommitted)
    async def on_fix(event: FixCommitted, ctx: HandlerContext) -> None:
        await service.accept_fix(
            rt=rt, runs=runs, conn=ctx.conn, emitter=ctx, fix=event, target=target, headers=ctx.delivery.headers
        )

    @rt.consume(TopicName.ISSUES_DETECTED, IssueDetected)
    async def on_issue(event: IssueDetected, ctx: HandlerContext) -> None:
        if event.target != target:
            return
        if not await service.mark_recurrence(rt=rt, runs=runs, issue=event, verify_s=VERIFY_S, conn=ctx.conn, emitter=ctx):
            await service.update_issue(rt=rt, runs=runs, issue=event, conn=ctx.conn, emitter=ctx)

    @rt.on_command(CommandName.APPROVE)
    async def on_approve(command: ControlCommand) -> None:
        await service.approve(rt=rt, runs=runs, command=command, target=target)

    @rt.on_command(CommandName.REJECT)
    async def on_reject(command: ControlCommand) -> None:
        await service.reject(rt=rt, runs=runs, command=command, target=target)

    @rt.on_command(CommandName.ROLLBACK)
    async def on_rollback(command: ControlCommand) -> None:
        await service.request_rollback(rt=rt, runs=runs, command=command, target=target)


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
