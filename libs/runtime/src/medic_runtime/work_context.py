"""What work code sees: its :class:`WorkItem`, a :class:`WorkContext` (store, outbox, pause guard), :class:`RetryLater`.

Events the work emits are queued on the context and written to the outbox in the transaction that
finishes the item (or earlier, at a :meth:`WorkContext.checkpoint`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medic_contracts import ActionStatus, Producer, TopicRegistry

from .bus import Emitter
from .control import ControlPlane, SideEffectRefused

if TYPE_CHECKING:
    from .work import WorkQueue

__all__ = ["RetryLater", "WorkContext", "WorkFn", "WorkItem"]


class RetryLater(Exception):
    """Raised by work code to put the item back without counting a failed attempt."""

    def __init__(self, delay_s: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay_s:.0f}s")
        self.delay_s = delay_s
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One unit of durable work."""

    id: int
    kind: str
    dedup_key: str
    issue_id: str | None
    priority: int
    payload: dict[str, Any]
    headers: dict[str, str]
    attempts: int
    max_attempts: int
    created_at: float


class WorkContext(Emitter):
    """What work code gets: its item, the store, an outbox written when the item completes."""

    def __init__(
        self, item: WorkItem, *, queue: WorkQueue, topics: TopicRegistry, producer: Producer, control: ControlPlane
    ) -> None:
        super().__init__(topics, producer)
        self.item = item
        self.queue = queue
        self.store = queue.store
        self.control = control

    @property
    def replay_of(self) -> str | None:
        """The original event id when this work comes from a replayed event (rework)."""
        return self.item.headers.get("replay-of")

    def require_running(self, action: str, *, issue_id: str | None = None) -> None:
        """Refuse a side effect while paused; the refusal is audited by the worker."""
        try:
            self.control.require_running(action)
        except SideEffectRefused:
            self.record(
                f"{action}",
                ActionStatus.REFUSED,
                f"{action} refused: {self.control.pause_reason}",
                issue_id=issue_id or self.item.issue_id,
            )
            raise

    async def checkpoint(self) -> None:
        """Write the events emitted so far now (in their own transaction), e.g. between rollout stages."""
        async with self.store.transaction() as conn:
            await self.flush(conn)
        self.queue.notify_relay()


WorkFn = Callable[[WorkItem, WorkContext], Awaitable[None]]
