"""Subscribers of the investigator: translate events into domain calls, nothing more."""

from __future__ import annotations

from medic_contracts import DeploymentResult, IssueDetected
from medic_runtime import HandlerContext, WorkQueue

from .adapters.store import StoreCaseMemory
from .domain.rounds import diagnosis_key, memory_outcome

__all__ = ["enqueue_diagnosis", "remember_outcome"]


async def enqueue_diagnosis(event: IssueDetected, ctx: HandlerContext, *, work: WorkQueue, memory: StoreCaseMemory) -> None:
    """Record a ``diagnose`` work item (most severe first); the message is acknowledged at once."""
    setbacks = await memory.setbacks(issue_id=event.issue_id, conn=ctx.conn)
    await work.enqueue(
        ctx.conn,
        kind="diagnose",
        dedup_key=diagnosis_key(event, replay_of=ctx.delivery.replay_of, setbacks=setbacks),
        payload=event.model_dump(mode="json"),
        priority=event.severity.rank,
        issue_id=event.issue_id,
        headers=ctx.delivery.headers,
        refresh_queued=True,
    )


async def remember_outcome(event: DeploymentResult, ctx: HandlerContext, *, memory: StoreCaseMemory) -> None:
    """Teach the memory how a diagnosed issue's fix ended (production results and reopenings)."""
    outcome = memory_outcome(event)
    if outcome is not None:
        await memory.record_outcome(issue_id=event.issue_id, outcome=outcome, conn=ctx.conn)
