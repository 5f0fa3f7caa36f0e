"""Subscribers of the watcher: translate events into domain calls, nothing more."""

from __future__ import annotations

from medic_contracts import ActionStatus, DeploymentResult
from medic_runtime import HandlerContext


async def on_event(event: DeploymentResult, ctx: HandlerContext) -> None:
    """Until the watcher can verify promoted fixes, say so in the audit trail: never a fabricated success."""
    ctx.record(
        "watcher.unsupported",
        ActionStatus.FAILED,
        f"watcher cannot verify promoted fixes yet: {event.event_type} {event.event_id} was not acted on",
        issue_id=event.issue_id,
        caused_by=event,
    )
