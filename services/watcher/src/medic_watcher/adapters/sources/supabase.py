"""Supabase: the Management API's logs endpoint, one SQL query per log table over a time window.

``GET /v1/projects/{ref}/analytics/endpoints/logs.all?sql=…&iso_timestamp_start=…&iso_timestamp_end=…``
answers ``{"result": [rows], "error": null}``; rows are ``{id, timestamp (µs), event_message,
metadata}`` (metadata an array of nested records).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from ...config import SupabaseSource as SupabaseConfig
from ...domain.normalize import Normaliser, parse_timestamp
from .base import HttpSource, PollResult, SourceError

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


class SupabasePoller(HttpSource):
    """Polls Supabase logs; cursor: ``{"end": iso, "ids": [row ids at the window's end]}``."""

    def __init__(
        self,
        config: SupabaseConfig,
        *,
        token: str,
        service: str,
        normaliser: Normaliser,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            name=config.name,
            kind="supabase",
            interval_s=config.interval_s,
            base_url=config.api_url,
            headers={"Authorization": f"Bearer {token}"},
            rate_per_s=config.rate_per_s,
            timeout_s=config.timeout_s,
            normaliser=normaliser,
            transport=transport,
        )
        self.config = config
        self.service = service

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
        result.events.sort(key=lambda e: e.timestamp)
        result.cursor = {"end": newest.isoformat(), "ids": sorted(newest_ids)}
        return result
