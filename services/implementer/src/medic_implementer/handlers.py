"""Subscribers of the implementer: each translates one event or command into one work item or one worker call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from medic_contracts import ActionStatus, ControlCommand, DeploymentResult, DiagnosisReady
from medic_runtime import HandlerContext

from .worker import FIX_WORK, FixWorker

__all__ = ["build_handlers", "build_learning_handlers", "enqueue_fix", "record_unconfigured"]

DiagnosisHandler = Callable[[DiagnosisReady, HandlerContext], Awaitable[None]]
CommandHandler = Callable[[ControlCommand], Awaitable[None]]
DeploymentHandler = Callable[[DeploymentResult, HandlerContext], Awaitable[None]]


async def enqueue_fix(worker: FixWorker, diagnosis: DiagnosisReady, ctx: HandlerContext) -> bool:
    """Record the ``fix`` work item of a diagnosis (priority = severity rank, in the delivery's transaction);
    False if already queued. Every new diagnosis of an issue (including a replay) is a new attempt."""
    store = worker.rt.store
    key = f"attempts:{diagnosis.issue_id}"
    attempt = int(await store.kv_get(key, ctx.conn) or 0) + 1
    queued = await worker.rt.work.enqueue(
        ctx.conn,
        kind=FIX_WORK,
        dedup_key=f"fix:{diagnosis.event_id}",
        payload={"diagnosis": diagnosis.model_dump(mode="json"), "attempt": attempt},
        priority=diagnosis.issue.severity.rank,
        issue_id=diagnosis.issue_id,
        headers=ctx.delivery.headers,
    )
    if queued:
        await store.kv_set(key, attempt, ctx.conn)
    return queued


def build_handlers(worker: FixWorker) -> tuple[DiagnosisHandler, CommandHandler, CommandHandler]:
    """The DiagnosisReady handler and the approve/reject command handlers bound to ``worker``."""

    async def on_diagnosis(event: DiagnosisReady, ctx: HandlerContext) -> None:
        """Record the fix as durable work and acknowledge."""
        await enqueue_fix(worker, event, ctx)

    async def on_approve(command: ControlCommand) -> None:
        await worker.decide(command, approve=True)

    async def on_reject(command: ControlCommand) -> None:
        await worker.reject(command)

    return on_diagnosis, on_approve, on_reject


def build_learning_handlers(worker: FixWorker) -> tuple[DeploymentHandler, CommandHandler]:
    """The DeploymentResult handler and the feedback command handler: what happened to a fix, as strategy outcomes."""

    async def on_deployment(event: DeploymentResult, ctx: HandlerContext) -> None:
        await worker.learn_from_deployment(ctx.conn, event, ctx)

    async def on_feedback(command: ControlCommand) -> None:
        await worker.learn_from_feedback(command)

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
