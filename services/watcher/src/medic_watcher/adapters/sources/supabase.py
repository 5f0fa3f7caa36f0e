"""Supabase: the Management API's logs endpoint, one SQL query per log table over a time window.

``GET /v1/projects/{ref}/analytics/endpoints/logs.all?sql=…&iso_timestamp_start=…&iso_timestamp_end=…``
answers ``{"result": [rows], "error": null}``; rows are ``{id, timestamp (µs), event_message,
metadata}`` (metadata an array of nested records).

With ``query_performance = true`` the poller also reads what the dashboard's Query Performance report
reads, ``pg_stat_statements``, through ``POST /v1/projects/{ref}/database/query`` (body ``{"query",
"read_only": true}``, answer: a JSON array of rows), and judges each statement's mean time per call
against the budget and its baseline (kept in the cursor under ``"queries"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ...config import SupabaseSource as SupabaseConfig
from ...domain.fields import parse_timestamp
from ...domain.slow_queries import QueryStat, SlowQueryState, judge_statements, slow_query_event
from .base import HttpSource, PollResult, SourceError
from .postgres import STATEMENTS_SQL, budget_of

__all__ = ["SupabasePoller", "logs_sql"]

_SELECTS = {
    "edge_logs": "select id, timestamp, event_message, metadata from edge_logs",
    "postgres_logs": "select id, timestamp, event_message, metadata from postgres_logs",
    "auth_logs": "select id, timestamp, event_message, metadata from auth_logs",
    "function_logs": "select id, timestamp, event_message, metadata from function_logs",
}


def logs_sql(table: str, *, limit: int) -> str:
    """The query for one table (the window is passed as the endpoint's timestamp parameters)."""
    return f"{_SELECTS[table]} order by timestamp asc limit {int(limit)}"


class SupabasePoller(HttpSource[SupabaseConfig]):
    """Polls Supabase logs; cursor: ``{"end": iso, "ids": [row ids at the window's end]}``."""

    def base_url(self) -> str:
        """The configured ``api_url``."""
        return self.config.api_url

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """Rows of every configured table in (cursor end, now]."""
        state = cursor if isinstance(cursor, Mapping) else {}
        start = parse_timestamp(state.get("end"), default=now - timedelta(seconds=self.config.interval_s))
        start = max(start, now - timedelta(seconds=self.config.max_window_s))
        seen = set(state.get("ids") or [])
        result = PollResult()
        newest = start
        newest_ids: set[str] = set(seen)
        for table in self.config.tables:
            data = await self.json(
                f"/v1/projects/{self.config.project_ref}/analytics/endpoints/logs.all",
                params={
                    "sql": logs_sql(table, limit=self.config.limit),
                    "iso_timestamp_start": start.isoformat(),
                    "iso_timestamp_end": now.isoformat(),
                },
            )
            if not isinstance(data, Mapping):
                raise SourceError(f"supabase {self.name}: answer is not an object")
            if data.get("error"):
                raise SourceError(f"supabase {self.name}: {table}: {str(data['error'])[:300]}")
            for row in data.get("result") or []:
                if not isinstance(row, Mapping):
                    continue
                row_id = str(row.get("id") or "")
                ts = parse_timestamp(row.get("timestamp"), default=now)
                if ts < start or (ts == start and row_id in seen):
                    continue
                event = self.normaliser.supabase_row(row, table=table, service=self.service, now=now)
                result.events.append(event)
                if ts > newest:
                    newest, newest_ids = ts, {row_id}
                elif ts == newest:
                    newest_ids.add(row_id)
        cursor_out: dict[str, Any] = {"end": newest.isoformat(), "ids": sorted(newest_ids)}
        if self.config.query_performance:
            queries = SlowQueryState.model_validate(state.get("queries") or {})
            result.events.extend(await self._slow_queries(queries, now=now))
            cursor_out["queries"] = queries.model_dump(mode="json")
        result.events.sort(key=lambda e: e.timestamp)
        result.cursor = cursor_out
        return result

    async def _slow_queries(self, state: SlowQueryState, *, now: datetime) -> list[Any]:
        """Statements over budget or regressed since the last poll (pg_stat_statements via the Management API)."""
        response = await self.request(
            "POST",
            f"/v1/projects/{self.config.project_ref}/database/query",
            json={"query": STATEMENTS_SQL.format(top=200), "read_only": True},
        )
        try:
            rows = response.json()
        except ValueError as exc:
            raise SourceError(f"supabase {self.name}: database query did not answer JSON") from exc
        if not isinstance(rows, list):
            raise SourceError(f"supabase {self.name}: database query answered {type(rows).__name__}, not rows")
        stats = []
        for row in rows:
            if not isinstance(row, Mapping) or row.get("query_id") is None:
                continue
            try:
                stats.append(
                    QueryStat(
                        query_id=str(row["query_id"]),
                        query=str(row.get("query") or ""),
                        calls=int(row.get("calls") or 0),
                        total_ms=float(row.get("total_ms") or 0.0),
                        rows=int(row.get("rows") or 0),
                    )
                )
            except (TypeError, ValueError):
                continue
        findings = judge_statements(state, stats, budget_of(self.config))
        return [
            slow_query_event(
                f,
                source="supabase",
                service=self.service,
                environment=self.config.environment,
                now=now,
                normaliser=self.normaliser,
            )
            for f in findings
        ]
