"""Poll leases: with several watcher replicas on one store, each polled source is polled by one of them.

Every replica runs a loop per polled source, but only the holder of the source's lease (a row in the
store, :mod:`medic_runtime.leases`) polls it; the others stand by and try again every ``check_s``.
The holder renews its leases in the background; a replica that dies stops renewing, and another takes
the source over once the lease lapses (``ttl_s``). The new holder polls when the source is next due by
the time of its last poll (stored with the poll), so a hand-over polls neither twice nor late in an
interval. A poll's batch is committed only while its lease holds (:meth:`PollLeases.fence`), so a
replica that stalled past expiry cannot publish what the new holder is polling too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_runtime import Leases, ServiceStore

from .adapters.store import poll_leases

__all__ = ["LeaseLost", "PollLeases"]

log = logging.getLogger("medic.watcher.polling")


class LeaseLost(Exception):
    """This replica no longer holds the source's lease: its poll is not committed."""


class PollLeases:
    """The poll leases this replica holds, taken per source and renewed in the background."""

    def __init__(self, store: ServiceStore, *, holder: str, ttl_s: float) -> None:
        self.store = store
        self.leases = Leases(store, poll_leases, key="source")
        self.holder = holder
        self.ttl_s = ttl_s
        #: How often a standby replica retries, and the holder renews: three chances before expiry.
        self.check_s = ttl_s / 3
        self.held: set[str] = set()
        self._renewing: asyncio.Task[None] | None = None

    @staticmethod
    def key(target: str, source: str) -> str:
        """The lease name of a target's source."""
        return f"{target}/{source}"

    async def take(self, key: str) -> bool:
        """Take (or keep) the lease of ``key``; False while another replica holds it or the store is out of reach."""
        try:
            held = await self.leases.acquire(key=key, holder=self.holder, ttl_s=self.ttl_s)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("poll lease %s: store unavailable: %s", key, exc)
            held = False
        if held:
            self.held.add(key)
        else:
            self.held.discard(key)
        return held

    async def holder_of(self, key: str) -> str | None:
        """Who polls ``key`` now (None when nobody holds a live lease)."""
        with contextlib.suppress(SQLAlchemyError, OSError):
            return await self.leases.holder(key=key)
        return None

    async def fence(self, conn: AsyncConnection, key: str) -> None:
        """In the poll's transaction: raise :class:`LeaseLost` unless this replica still holds ``key``."""
        if not await self.leases.fence(conn, key=key, holder=self.holder):
            self.held.discard(key)
            raise LeaseLost(key)

    async def due_in(self, key: str, *, interval_s: float) -> float:
        """Seconds until ``key`` is next due (0 when due now), by the time of its last committed poll."""
        polled = await self.store.kv_get(self.polled_key(key))
        if not isinstance(polled, int | float):
            return 0.0
        return max(0.0, float(polled) + interval_s - time.time())

    @staticmethod
    def polled_key(key: str) -> str:
        """The store key holding when ``key`` was last polled (epoch seconds)."""
        return f"watcher:polled_at:{key}"

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            if not self.held:
                continue
            try:
                self.held = await self.leases.renew(keys=sorted(self.held), holder=self.holder, ttl_s=self.ttl_s)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("renewing poll leases failed: %s", exc)

    def start(self) -> None:
        """Start renewing the held leases."""
        self._renewing = asyncio.create_task(self._renew_forever(), name="poll-leases")

    async def stop(self) -> None:
        """Stop renewing and give every held lease up, so another replica takes over at once."""
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
            self._renewing = None
        for key in sorted(self.held):
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.leases.release(key=key, holder=self.holder)
        self.held.clear()
