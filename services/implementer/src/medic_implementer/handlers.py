"""Subscribers of the implementer: translate events into domain calls, nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from medic_contracts import ActionStatus, ControlCommand, DeploymentResult, DiagnosisReady
from medic_runtime import HandlerContext

from .service import Implementer

CommandHandler = Callable[[ControlCommand], Awaitable[None]]
DeploymentHandler = Callable[[DeploymentResult, HandlerContext], Awaitable[None]]


def build_handlers(
    implementer: Implementer,
) -> tuple[Callable[[DiagnosisReady, HandlerContext], Awaitable[None]], CommandHandler, CommandHandler]:
    """The DiagnosisReady handler and the approve/reject command handlers bound to ``implementer``."""

    async def on_diagnosis(event: DiagnosisReady, ctx: HandlerContext) -> None:
        """Record the fix as durable work (priority = severity rank) and acknowledge."""
        await implementer.enqueue_fix(ctx.conn, event, replay_of=ctx.delivery.replay_of, headers=ctx.delivery.headers)

    async def on_approve(command: ControlCommand) -> None:
        await implementer.decide(command, approve=True)

    async def on_reject(command: ControlCommand) -> None:
        await implementer.decide(command, approve=False)
        await implementer.learn_from_deploy_rejection(command)

    return on_diagnosis, on_approve, on_reject


def build_learning_handlers(implementer: Implementer) -> tuple[DeploymentHandler, CommandHandler]:
    """The DeploymentResult handler and the feedback command handler: what happened to a fix, as strategy outcomes."""

    async def on_deployment(event: DeploymentResult, ctx: HandlerContext) -> None:
        await implementer.learn_from_deployment(ctx.conn, event, ctx)

    async def on_feedback(command: ControlCommand) -> None:
        await implementer.learn_from_feedback(command)

    return on_deployment, on_feedback


async def record_unconfigured(event: DiagnosisReady, ctx: HandlerContext) -> None:
    """Without a target file nothing can be fixed: say so in the audit trail, never a fabricated success."""
    ctx.record(
        "implementer.unconfigured",
        ActionStatus.FAILED,
        f"no target file (MEDIC_TARGET_FILE): diagnosis {event.event_id} was not fixed",
        issue_id=event.issue_id,
        caused_by=event,
    )
