"""Subscribers of the implementer: translate events into domain calls, nothing more."""

from __future__ import annotations

from medic_contracts import ActionStatus, DiagnosisReady
from medic_runtime import HandlerContext


async def on_event(event: DiagnosisReady, ctx: HandlerContext) -> None:
    """Until the implementer can implement fixes, say so in the audit trail: never a fabricated success."""
    ctx.record(
        "implementer.unsupported",
        ActionStatus.FAILED,
        f"implementer cannot implement fixes yet: {event.event_type} {event.event_id} was not acted on",
        issue_id=event.issue_id,
        caused_by=event,
    )
