"""Leases with expiry in the service store: one holder of a named thing at a time, handed over when it dies.

A lease row names its holder (an instance id) and the time it lapses. Taking it is one compare-and-set
UPDATE: it succeeds when the lease is free, lapsed, or already ours (a renewal), so two instances never
both hold it, and a crashed holder, which stops renewing, blocks the others for one TTL at most. The
releaser leases targets with it; the watcher leases each polled source.

:meth:`Leases.fence` checks, inside the caller's transaction, that the lease is still held, and on
PostgreSQL locks its row until the transaction ends: a holder that lost the lease (it stalled past
expiry) cannot commit work the new holder is doing, and a new holder cannot take the lease while the
old one is committing.
"""

from __future__ import annotations

import time

from sqlalchemy import Column, Float, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .store import ServiceStore

__all__ = ["Leases", "lease_table"]


def lease_table(name: str, metadata: MetaData, *, key: str = "name", key_length: int = 300) -> Table:
    """A lease table: ``key`` (primary key), ``holder`` (null when free) and ``until`` (epoch seconds)."""
    return Table(
        name,
        metadata,
        Column(key, String(key_length), primary_key=True),
        Column("holder", String(200), nullable=True),
        Column("until", Float, nullable=False),
    )


class Leases:
    """Take, renew, give up and check leases in one lease table (keyword-only methods)."""

    def __init__(self, store: ServiceStore, table: Table, *, key: str = "name") -> None:
        self.store = store
        self.table = table
        self._key = table.c[key]
        self._key_name = key

    async def acquire(self, *, key: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the lease of ``key`` for ``ttl_s``; False while another live holder has it."""
        t = self.table
        now = time.time()
        async with self.store.transaction() as conn:
            free = {self._key_name: key, "holder": None, "until": 0.0}
            await conn.execute(self.store.insert_ignore(t, [self._key_name]).values(free))
            result = await conn.execute(
                update(t)
                .where(self._key == key, (t.c.holder == holder) | (t.c.until < now) | (t.c.holder.is_(None)))
                .values(holder=holder, until=now + ttl_s)
            )
            return result.rowcount == 1

    async def renew(self, *, keys: list[str], holder: str, ttl_s: float) -> set[str]:
        """Extend the live leases ``holder`` has among ``keys``; the keys still held (a lapsed one is not renewed)."""
        if not keys:
            return set()
        t = self.table
        now = time.time()
        async with self.store.transaction() as conn:
            await conn.execute(
                update(t).where(self._key.in_(keys), t.c.holder == holder, t.c.until >= now).values(until=now + ttl_s)
            )
            rows = await conn.execute(select(self._key).where(self._key.in_(keys), t.c.holder == holder))
            return {r[0] for r in rows}

    async def release(self, *, key: str, holder: str) -> None:
        """Give the lease up (at shutdown, or when there is nothing left to do under it)."""
        t = self.table
        async with self.store.transaction() as conn:
            await conn.execute(update(t).where(self._key == key, t.c.holder == holder).values(holder=None, until=0.0))

    async def holder(self, *, key: str, conn: AsyncConnection | None = None) -> str | None:
        """Who holds the lease now (None when free or lapsed)."""
        stmt = select(self.table.c.holder, self.table.c.until).where(self._key == key)
        if conn is not None:
            row = (await conn.execute(stmt)).first()
        else:
            async with self.store.engine.connect() as c:
                row = (await c.execute(stmt)).first()
        if row is None or row.until < time.time():
            return None
        found: str | None = row.holder
        return found

    async def fence(self, conn: AsyncConnection, *, key: str, holder: str) -> bool:
        """In the caller's transaction: True when ``holder`` still holds the lease (its row stays locked until commit)."""
        t = self.table
        stmt = select(t.c.holder, t.c.until).where(self._key == key).with_for_update()
        row = (await conn.execute(stmt)).first()
        return row is not None and row.holder == holder and row.until >= time.time()
