"""The watcher's own tables: issue states per target, recently seen source event ids, and poll leases."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_runtime import ServiceStore, lease_table

from ..domain.tracker import IssueState

__all__ = ["IssueStore", "poll_leases", "watcher_metadata"]

watcher_metadata = MetaData()

watcher_issues = Table(
    "watcher_issues",
    watcher_metadata,
    Column("issue_id", String(64), primary_key=True),
    Column("target", String(100), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("state", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

watcher_seen = Table(
    "watcher_seen",
    watcher_metadata,
    Column("target", String(100), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("seen_at", Float, nullable=False),
)

#: One row per polled source (``target/source``): the replica that polls it now (see :mod:`..polling`).
poll_leases = lease_table("watcher_poll_leases", watcher_metadata, key="source")


class IssueStore:
    """Issue states and seen event ids, read and written inside the caller's transaction."""

    def __init__(self, store: ServiceStore) -> None:
        self.store = store

    async def load(self, conn: AsyncConnection, issue_ids: Iterable[str]) -> dict[str, IssueState]:
        """The stored states of these issues."""
        ids = list(set(issue_ids))
        states: dict[str, IssueState] = {}
        for start in range(0, len(ids), 500):
            rows = await conn.execute(
                select(watcher_issues.c.state).where(watcher_issues.c.issue_id.in_(ids[start : start + 500]))
            )
            for (raw,) in rows:
                state = IssueState.model_validate_json(raw)
                states[state.issue_id] = state
        return states

    async def save(self, conn: AsyncConnection, states: Iterable[IssueState]) -> None:
        """Upsert issue states."""
        for state in states:
            row = {
                "issue_id": state.issue_id,
                "target": state.target,
                "fingerprint": state.fingerprint,
                "state": state.model_dump_json(),
                "updated_at": time.time(),
            }
            await conn.execute(self.store.upsert(watcher_issues, ["issue_id"], row, ["state", "updated_at"]))

    async def unseen(self, conn: AsyncConnection, target: str, event_ids: Iterable[str]) -> set[str]:
        """Which event ids were not seen before; all of them are marked seen now."""
        ids = {e for e in event_ids if e}
        if not ids:
            return set()
        seen: set[str] = set()
        listed = list(ids)
        for start in range(0, len(listed), 500):
            rows = await conn.execute(
                select(watcher_seen.c.event_id).where(
                    watcher_seen.c.target == target, watcher_seen.c.event_id.in_(listed[start : start + 500])
                )
            )
            seen.update(r[0] for r in rows)
        fresh = ids - seen
        if fresh:
            now = time.time()
            await conn.execute(
                self.store.insert_ignore(watcher_seen, ["target", "event_id"]),
                [{"target": target, "event_id": e, "seen_at": now} for e in fresh],
            )
        return fresh

    async def prune_seen(self, older_than_s: float) -> None:
        """Forget seen ids older than ``older_than_s``."""
        async with self.store.transaction() as conn:
            await conn.execute(delete(watcher_seen).where(watcher_seen.c.seen_at < time.time() - older_than_s))
