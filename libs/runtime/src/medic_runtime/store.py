"""The service's own store: processed event ids, outbox, work queue and a small key/value table.

SQLAlchemy 2.0 Core over an async engine: a SQLite file by default (WAL, one writer), or a
PostgreSQL URL, where each service keeps its tables in its own schema (``medic_<service>``).
Services add their own tables to :data:`metadata` (or their own MetaData) and call
:meth:`ServiceStore.create_all`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    event,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["ServiceStore", "kv", "metadata", "outbox", "processed_events", "work_items"]

metadata = MetaData()

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("processed_at", Float, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("key", LargeBinary, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)

work_items = Table(
    "work_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(100), nullable=False),
    Column("dedup_key", String(300), nullable=False),
    Column("issue_id", String(200), nullable=True),
    Column("priority", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("payload", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("not_before", Float, nullable=False),
    Column("lease_owner", String(200), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("dedup_key", name="uq_work_items_dedup"),
    Index("ix_work_items_claim", "status", "priority", "not_before"),
)

kv = Table(
    "kv",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


#: How long a statement waits for another process's write lock (in the connection's worker thread).
SQLITE_BUSY_TIMEOUT_MS = 10_000
_SQLITE_BUSY = 5
#: Least time between two background WAL checkpoints.
SQLITE_CHECKPOINT_EVERY_S = 0.25
SQLITE_AUTOCHECKPOINT_PAGES = 20_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL survives process crashes
    # No busy wait on the event loop: a locked file raises at once and the statement is retried in the
    # connection's worker thread with SQLITE_BUSY_TIMEOUT_MS (see _InlineSqliteConnection).
    cur.execute("PRAGMA busy_timeout=0")
    # Checkpoints (write-back plus fsync, ~10 ms) run in a thread (ServiceStore._checkpoint), not in a commit
    # on the loop; SQLite's own one stays as a backstop should that fall behind.
    cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _with_busy_timeout(conn: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    try:
        return fn(*args, **kwargs)
    finally:
        conn.execute("PRAGMA busy_timeout=0")


class _InlineSqliteConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs each call on the event loop's thread instead of its worker thread.

    The service store's statements are small indexed reads and writes that SQLite (WAL, synchronous=NORMAL)
    finishes in tens of microseconds, while a hop to aiosqlite's worker thread and back costs 0.5-10 ms on a
    loaded machine, several times per transaction: that hop was most of a message's cost through the
    runtime. Only when another process holds the write lock (SQLITE_BUSY) does the call go to the worker
    thread, which waits for the lock there, so the loop never blocks on another process's transaction.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection
        if not self._running or conn is None:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _SQLITE_BUSY:
                raise
        return await super()._execute(_with_busy_timeout, conn, fn, args, kwargs)  # type: ignore[no-untyped-call]


def _inline_sqlite_creator(database: str) -> Callable[[], _InlineSqliteConnection]:
    def create() -> _InlineSqliteConnection:
        # The connection object is used from the loop's thread and, when the file is locked, its worker thread.
        connector = partial(sqlite3.connect, database, timeout=0, check_same_thread=False)
        conn = _InlineSqliteConnection(connector, iter_chunk_size=64)
        conn._thread.daemon = True
        return conn

    return create


class ServiceStore:
    """One service's database: an async engine plus helpers every service uses."""

    def __init__(self, url: str, *, service: str) -> None:
        self.url = url
        self.service = service
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.schema: str | None = None
        self._sqlite_path: str | None = None
        self._checkpoint_due = 0.0
        self._checkpointing: asyncio.Task[None] | None = None
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                self._sqlite_path = parsed.database
            kwargs["async_creator"] = _inline_sqlite_creator(parsed.database or ":memory:")
            # SQLite has one writer: one pooled connection queues transactions in-process instead of
            # letting connections fight over the file lock (busy-wait sleeps of up to 100 ms each).
            # Code inside a transaction must use that transaction's connection, never open another.
            kwargs["pool_size"] = 1
            kwargs["max_overflow"] = 0
            kwargs["pool_timeout"] = 60
        else:
            self.schema = f"medic_{service.replace('-', '_')}"
            kwargs["pool_size"] = 5
            kwargs["pool_pre_ping"] = True
        engine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            engine = engine.execution_options(schema_translate_map={None: self.schema})
        self.engine: AsyncEngine = engine

    async def create_all(self, *extra: MetaData) -> None:
        """Create the runtime's tables (and any extra service tables) if they do not exist."""
        for attempt in range(3):
            try:
                async with self.engine.begin() as conn:
                    if self.schema:
                        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                    for md in (metadata, *extra):
                        await conn.run_sync(md.create_all)
                return
            except (OperationalError, ProgrammingError, IntegrityError):
                # Two instances sharing a store raced to create a table: the second sees it next time.
                if attempt == 2:
                    raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One local transaction (committed on exit, rolled back on error)."""
        async with self.engine.begin() as conn:
            yield conn
        if self._sqlite_path is not None:
            self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        """Start a WAL checkpoint in a thread unless one ran recently or is running."""
        now = time.monotonic()
        if now < self._checkpoint_due or (self._checkpointing is not None and not self._checkpointing.done()):
            return
        self._checkpoint_due = now + SQLITE_CHECKPOINT_EVERY_S
        self._checkpointing = asyncio.create_task(asyncio.to_thread(self._checkpoint), name=f"checkpoint-{self.service}")

    def _checkpoint(self) -> None:
        # Its own short-lived connection: a PASSIVE checkpoint never blocks the writers on the loop's connection.
        assert self._sqlite_path is not None
        conn = sqlite3.connect(self._sqlite_path, timeout=0)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # busy or closing: the next commit tries again, SQLite's auto-checkpoint is the backstop
        finally:
            conn.close()

    async def ping(self) -> bool:
        """True when the store answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        if self._checkpointing is not None:
            await self._checkpointing
        await self.engine.dispose()

    # ---- idempotency ---------------------------------------------------------------------------

    async def already_processed(self, conn: AsyncConnection, consumer: str, event_ids: Iterable[str]) -> set[str]:
        """Which of ``event_ids`` this consumer has already processed."""
        ids = list(event_ids)
        if not ids:
            return set()
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await conn.execute(
                select(processed_events.c.event_id).where(
                    processed_events.c.consumer == consumer, processed_events.c.event_id.in_(chunk)
                )
            )
            found.update(r[0] for r in rows)
        return found

    async def mark_processed(self, conn: AsyncConnection, consumer: str, event_ids: Iterable[str]) -> None:
        """Record that this consumer processed these events (in the caller's transaction)."""
        now = time.time()
        rows = [{"consumer": consumer, "event_id": eid, "processed_at": now} for eid in event_ids]
        if rows:
            await conn.execute(self.insert_ignore(processed_events, ["consumer", "event_id"]), rows)

    async def prune_processed(self, older_than_s: float) -> int:
        """Forget processed ids older than ``older_than_s`` (replays beyond it are rework anyway)."""
        async with self.transaction() as conn:
            result = await conn.execute(
                delete(processed_events).where(processed_events.c.processed_at < time.time() - older_than_s)
            )
            return int(result.rowcount or 0)

    # ---- key/value -----------------------------------------------------------------------------

    async def kv_get(self, key: str, conn: AsyncConnection | None = None) -> Any | None:
        """A JSON value stored under ``key``, or None."""
        stmt = select(kv.c.value).where(kv.c.key == key)
        if conn is not None:
            row = (await conn.execute(stmt)).first()
        else:
            async with self.engine.connect() as c:
                row = (await c.execute(stmt)).first()
        return json.loads(row[0]) if row else None

    async def kv_set(self, key: str, value: Any, conn: AsyncConnection | None = None) -> None:
        """Store a JSON value under ``key`` (upsert)."""
        row = {"key": key, "value": json.dumps(value, default=str), "updated_at": time.time()}
        stmt = self.upsert(kv, ["key"], row, ["value", "updated_at"])
        if conn is not None:
            await conn.execute(stmt)
        else:
            async with self.transaction() as c:
                await c.execute(stmt)

    # ---- dialect helpers -----------------------------------------------------------------------

    def insert_ignore(self, table: Table, keys: list[str]) -> Any:
        """INSERT … ON CONFLICT DO NOTHING for this store's dialect."""
        if self.dialect == "sqlite":
            return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
        return pg_insert(table).on_conflict_do_nothing(index_elements=keys)

    def upsert(self, table: Table, keys: list[str], row: dict[str, Any], update: list[str]) -> Any:
        """INSERT … ON CONFLICT DO UPDATE for this store's dialect."""
        if self.dialect == "sqlite":
            ins = sqlite_insert(table).values(**row)
            return ins.on_conflict_do_update(index_elements=keys, set_={c: ins.excluded[c] for c in update})
        pins = pg_insert(table).values(**row)
        return pins.on_conflict_do_update(index_elements=keys, set_={c: pins.excluded[c] for c in update})
