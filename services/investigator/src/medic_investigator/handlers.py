"""Subscribers of the investigator: translate events into domain calls, nothing more."""

from __future__ import annotations

from medic_contracts import ActionStatus, IssueDetected
from medic_runtime import HandlerContext


async def on_event(event: IssueDetected, ctx: HandlerContext) -> None:
    """Until the investigator can diagnose issues, say so in the audit trail: never a fabricated success."""
    ctx.record(
        "investigator.unsupported",
        ActionStatus.FAILED,
        f"investigator cannot diagnose issues yet: {event.event_type} {event.event_id} was not acted on",
        issue_id=event.issue_id,
        caused_by=event,
    )
