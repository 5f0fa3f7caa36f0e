"""Subscribers of the implementer: translate events into domain calls, nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from medic_contracts import ActionStatus, ControlCommand, DiagnosisReady
from medic_runtime import HandlerContext

from .service import Implementer

CommandHandler = Callable[[ControlCommand], Awaitable[None]]


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

    return on_diagnosis, on_approve, on_reject


async def record_unconfigured(event: DiagnosisReady, ctx: HandlerContext) -> None:
    """Without a target file nothing can be fixed: say so in the audit trail, never a fabricated success."""
    ctx.record(
        "implementer.unconfigured",
        ActionStatus.FAILED,
        f"no target file (MEDIC_TARGET_FILE): diagnosis {event.event_id} was not fixed",
        issue_id=event.issue_id,
        caused_by=event,
    )
