"""PostgreSQL statistics: slow statements from pg_stat_statements, else from the statistics views.

Each poll connects with a read-only session, reads the statistics and disconnects (a poll every few
minutes does not need a pool). ``pg_stat_statements`` needs ``shared_preload_libraries``; when it is
not loaded (``auto``), the poller reads ``pg_stat_user_tables`` (sequential scan growth per table)
and ``pg_stat_activity`` (statements running past the budget, and the last statement of each session,
to name the query behind the scans). Counters and baselines travel in the cursor, which the watcher
stores with the poll's issues in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from ...config import PostgresSource as PostgresConfig
from ...domain.normalize import Normaliser
from ...domain.slow_queries import (
    ActiveQuery,
    QueryStat,
    SlowQueryBudget,
    SlowQueryState,
    TableScans,
    judge_active,
    judge_statements,
    judge_tables,
    mask_literals,
    slow_query_event,
)
from .base import PollResult, SourceError

__all__ = ["STATEMENTS_SQL", "PostgresStatsPoller"]

log = logging.getLogger("medic.watcher")

#: The statements of this database by total time (PostgreSQL 13+ column names).
STATEMENTS_SQL = (
    "SELECT queryid::text AS query_id, query, calls, total_exec_time AS total_ms, rows "
    "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND queryid IS NOT NULL AND query NOT ILIKE '%pg_stat_statements%' "
    "ORDER BY total_exec_time DESC LIMIT {top}"
)
_TABLES_SQL = (
    "SELECT s.schemaname::text AS schema, s.relname::text AS table, s.seq_scan, s.seq_tup_read, "
    "coalesce(s.idx_scan, 0) AS idx_scan, greatest(s.n_live_tup, c.reltuples::bigint, 0) AS live_rows "
    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = ANY($1::text[])"
)
_ACTIVITY_SQL = (
    "SELECT query, state, extract(epoch FROM (clock_timestamp() - query_start)) * 1000 AS running_ms "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' AND query <> '' AND query NOT ILIKE '%pg_stat_%' "
    "ORDER BY query_start DESC NULLS LAST LIMIT 200"
)


def budget_of(config: Any) -> SlowQueryBudget:
    """The domain thresholds of a source's ``slow_queries`` section."""
    return SlowQueryBudget(**config.slow_queries.model_dump())


def _names_table(query: str, schema: str, table: str) -> bool:
    pattern = rf'(?i)\b(?:from|join|update|into)\s+(?:"?{re.escape(schema)}"?\.)?"?{re.escape(table)}"?\b'
    return re.search(pattern, query) is not None


class PostgresStatsPoller:
    """Polls a PostgreSQL database's statistics; cursor: :class:`SlowQueryState` as JSON."""

    def __init__(self, config: PostgresConfig, *, dsn: str, service: str, normaliser: Normaliser) -> None:
        self.name = config.name
        self.kind = "postgres"
        self.interval_s = config.interval_s
        self.config = config
        self.service = service
        self.normaliser = normaliser
        self.budget = budget_of(config)
        self._dsn = dsn
        self._statements: bool | None = None if config.statistics == "auto" else config.statistics == "pg_stat_statements"

    async def _connect(self) -> asyncpg.Connection:
        if not self._dsn:
            raise SourceError(f"postgres {self.name}: ${self.config.dsn_env} is not set")
        try:
            return await asyncpg.connect(
                self._dsn,
                timeout=self.config.timeout_s,
                statement_cache_size=0,
                server_settings={
                    "application_name": "medic-watcher",
                    "default_transaction_read_only": "on",
                    "statement_timeout": str(int(self.config.timeout_s * 1000)),
                },
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise SourceError(f"postgres {self.name}: cannot connect: {type(exc).__name__}: {exc}") from exc

    async def _has_statements(self, conn: asyncpg.Connection) -> bool:
        if self._statements is None:
            try:
                await conn.fetchval("SELECT 1 FROM pg_stat_statements LIMIT 1")
                self._statements = True
            except asyncpg.PostgresError as exc:  # not installed, or installed but not preloaded
                log.info("postgres %s: pg_stat_statements unavailable (%s); using the statistics views", self.name, exc)
                self._statements = False
        return self._statements

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """Judge the statistics against the thresholds and the baselines in ``cursor``."""
        state = SlowQueryState.model_validate(cursor) if isinstance(cursor, Mapping) else SlowQueryState()
        conn = await self._connect()
        try:
            if await self._has_statements(conn):
                rows = await conn.fetch(STATEMENTS_SQL.format(top=int(self.config.top)))
                stats = [
                    QueryStat(
                        query_id=str(r["query_id"]),
                        query=str(r["query"]),
                        calls=int(r["calls"]),
                        total_ms=float(r["total_ms"]),
                        rows=int(r["rows"]),
                    )
                    for r in rows
                ]
                findings = judge_statements(state, stats, self.budget)
            else:
                tables = await conn.fetch(_TABLES_SQL, list(self.config.schemas))
                activity = await conn.fetch(_ACTIVITY_SQL)
                scans = [
                    TableScans(
                        schema=r["schema"],
                        table=r["table"],
                        seq_scan=int(r["seq_scan"] or 0),
                        seq_tup_read=int(r["seq_tup_read"] or 0),
                        idx_scan=int(r["idx_scan"] or 0),
                        live_rows=int(r["live_rows"] or 0),
                    )
                    for r in tables
                ]
                recent: dict[str, str] = {}
                for scan in scans:
                    for r in activity:
                        if _names_table(str(r["query"]), scan.schema, scan.table):
                            recent[f"{scan.schema}.{scan.table}"] = mask_literals(str(r["query"]))
                            break
                findings = judge_tables(state, scans, self.budget, recent_queries=recent)
                findings += judge_active(
                    (
                        ActiveQuery(query=str(r["query"]), running_ms=float(r["running_ms"] or 0.0))
                        for r in activity
                        if r["state"] == "active"
                    ),
                    self.budget,
                )
        except asyncpg.PostgresError as exc:
            raise SourceError(f"postgres {self.name}: {exc.sqlstate}: {exc}") from exc
        except (asyncpg.InterfaceError, OSError, TimeoutError) as exc:  # the connection went away mid-poll
            raise SourceError(f"postgres {self.name}: {type(exc).__name__}: {exc}") from exc
        finally:
            with contextlib.suppress(asyncpg.InterfaceError, OSError, TimeoutError):
                await conn.close(timeout=2)
        result = PollResult(cursor=state.model_dump(mode="json"))
        result.events = [
            slow_query_event(
                f,
                source="postgres",
                service=self.service,
                environment=self.config.environment,
                now=now,
                normaliser=self.normaliser,
            )
            for f in findings
        ]
        return result

    async def close(self) -> None:
        """Nothing is held between polls."""
