"""Subscribers of the releaser: translate events into domain calls, nothing more."""

from __future__ import annotations

from medic_contracts import ActionStatus, FixCommitted
from medic_runtime import HandlerContext


async def on_event(event: FixCommitted, ctx: HandlerContext) -> None:
    """Until the releaser can release fixes, say so in the audit trail: never a fabricated success."""
    ctx.record(
        "releaser.unsupported",
        ActionStatus.FAILED,
        f"releaser cannot release fixes yet: {event.event_type} {event.event_id} was not acted on",
        issue_id=event.issue_id,
        caused_by=event,
    )
