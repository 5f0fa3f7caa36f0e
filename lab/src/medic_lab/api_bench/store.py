"""The benchmark's PostgreSQL database: created and dropped per run, loaded with issues, and counted."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["count_actions", "load_issues", "projector_rate", "temporary_database", "wait_for_rows"]


async def temporary_database(admin_url: str) -> tuple[str, Callable[[], Any]]:
    """A new database on ``admin_url``'s server: its URL, and the coroutine function that drops it."""
    import asyncpg

    name = f"medic_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(dsn)
        try:
            await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await c.close()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


async def load_issues(url: str, count: int) -> None:
    """Migrate, then COPY ``count`` issues in (spread over 90 days, every status and severity)."""
    import asyncpg

    from medic_control.db import PG_SCHEMA, migrate, open_engine

    engine, schema = open_engine(url)
    await migrate(engine, schema=schema)
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        now = datetime.now(UTC)
        statuses = ("detected", "diagnosing", "fixing", "awaiting_approval", "deploying", "resolved", "failed", "rolled_back")
        columns = [
            "id",
            "target",
            "service",
            "environment",
            "title",
            "message",
            "fingerprint",
            "severity",
            "issue_type",
            "status",
            "source",
            "affected_users",
            "occurrences",
            "first_seen",
            "last_seen",
            "detected_at",
            "status_changed_at",
            "updated_at",
            "run_id",
            "rollback_count",
            "llm_cost_usd",
            "links",
        ]
        records = []
        for i in range(count):
            at = now - timedelta(seconds=i * 77)
            records.append(
                (
                    f"iss_{i:07d}",
                    "shop",
                    "web",
                    "production",
                    f"TypeError #{i}: Cannot read properties of null",
                    "TypeError ...",
                    f"{i:016x}",
                    f"P{i % 5}",
                    "api_error",
                    statuses[i % len(statuses)],
                    "sentry",
                    i % 50,
                    1 + i % 20,
                    at,
                    at,
                    at,
                    at,
                    at,
                    uuid.uuid4().hex,
                    0,
                    0.0,
                    "[]",
                )
            )
        await conn.copy_records_to_table("agent_issues", schema_name=PG_SCHEMA, columns=columns, records=records)
        await conn.execute(f"ANALYZE {PG_SCHEMA}.agent_issues")
    finally:
        await conn.close()


async def count_actions(url: str) -> int:
    """How many audit rows the store holds."""
    import asyncpg

    from medic_control.db import PG_SCHEMA

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(f"SELECT count(*) AS n FROM {PG_SCHEMA}.agent_actions")  # noqa: S608 - constant schema name
        return int(row["n"])
    finally:
        await conn.close()


async def wait_for_rows(url: str, rows: int, *, timeout_s: float) -> None:
    """Wait until the audit trail holds ``rows`` rows (a RuntimeError after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while await count_actions(url) < rows:
        if time.monotonic() > deadline:
            raise RuntimeError(f"projector did not reach {rows} audit rows in {timeout_s:.0f} s")
        await asyncio.sleep(0.2)


async def projector_rate(url: str, before: int, published_at: float) -> float:
    """Events projected after ``before`` per second, from the first publish to the last row recorded."""
    import asyncpg

    from medic_control.db import PG_SCHEMA

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM max(recorded_at)) AS last "  # noqa: S608 - constant schema
            f"FROM {PG_SCHEMA}.agent_actions WHERE seq > $1",
            before,
        )
        return int(row["n"]) / max(float(row["last"]) - published_at, 1e-3)
    finally:
        await conn.close()
