"""A table without the index its queries need, seeded in a real PostgreSQL, and a way to make it slow (for tests)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

__all__ = ["SlowTable", "run_slow_queries", "slow_table"]


@dataclass(frozen=True, slots=True)
class SlowTable:
    """The seeded schema (unique per test) and its DSN."""

    dsn: str
    schema: str
    rows: int


@asynccontextmanager
async def slow_table(postgres_url: str, *, rows: int = 30_000) -> AsyncIterator[SlowTable]:
    """``<schema>.orders`` with ``rows`` rows and no index on ``customer_email``; dropped afterwards."""
    dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    schema = f"shop_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        seed = (  # the schema name is generated above, not input
            f"CREATE SCHEMA {schema};"  # noqa: S608
            f"CREATE TABLE {schema}.orders (id serial PRIMARY KEY, customer_email text NOT NULL, total numeric NOT NULL);"
            f"INSERT INTO {schema}.orders (customer_email, total) "
            f"SELECT 'c' || (g % 7000) || '@example.com', g FROM generate_series(1, {int(rows)}) g;"
            f"ANALYZE {schema}.orders"
        )
        await conn.execute(seed)
        yield SlowTable(dsn=dsn, schema=schema, rows=rows)
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def _seq_scans(conn: asyncpg.Connection, schema: str) -> int:
    value = await conn.fetchval("SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'orders'", schema)
    return int(value or 0)


@asynccontextmanager
async def run_slow_queries(table: SlowTable, *, times: int = 6) -> AsyncIterator[None]:
    """Run the app's lookup by email ``times`` times on one session, kept open (its last statement stays
    visible in pg_stat_activity), and wait until the statistics views show the scans."""
    probe = await asyncpg.connect(table.dsn)
    app = await asyncpg.connect(table.dsn, statement_cache_size=0)
    try:
        before = await _seq_scans(probe, table.schema)
        lookup = f"SELECT id, total FROM {table.schema}.orders WHERE customer_email = '{{email}}'"  # noqa: S608
        for n in range(times):
            await app.fetch(lookup.format(email=f"c{n}@example.com"))
        # An idle backend flushes its statistics after up to 10 s; ask for it now. One more lookup after
        # it keeps the app's statement as the session's last one in pg_stat_activity.
        await app.fetchval("SELECT pg_stat_force_next_flush()")
        await app.fetch(lookup.format(email="last@example.com"))
        for _ in range(100):  # up to 5 s
            if await _seq_scans(probe, table.schema) >= before + times:
                break
            await asyncio.sleep(0.05)
        yield
    finally:
        await app.close()
        await probe.close()
