"""Vercel: the log-drain endpoint's body parsing and signature, and runtime-log polling.

Drains POST a JSON array (``json`` delivery) or one object per line (``ndjson``), signed with
HMAC-SHA1 of the raw body in ``x-vercel-signature``. Polling reads
``GET /v1/projects/{projectId}/deployments/{deploymentId}/runtime-logs`` (a stream of JSON
objects: ``level, message, rowId, source, timestampInMs, domain, requestMethod, requestPath,
responseStatusCode``); without a configured deployment the latest production one is found with
``GET /v6/deployments?projectId=…&target=production&limit=1``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...config import VercelSource as VercelConfig
from .base import HttpSource, PollResult, SourceError

__all__ = ["VercelPoller", "parse_drain_body", "verify_vercel_signature"]


def verify_vercel_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """True when ``signature`` is the hex HMAC-SHA1 of ``body`` under ``secret``."""
    if not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return hmac.compare_digest(expected, signature.strip())


def parse_drain_body(body: bytes) -> list[Mapping[str, Any]]:
    """The entries of a drain delivery (JSON array or NDJSON); raise ValueError when it is neither."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    if text.startswith("["):
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValueError("drain body is not a JSON array")
        return [d for d in data if isinstance(d, Mapping)]
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"drain body line {number} is not JSON") from exc
        if isinstance(item, Mapping):
            entries.append(item)
    return entries


class VercelPoller(HttpSource[VercelConfig]):
    """Polls runtime logs; cursor: ``{"deployment": id, "ts": ms, "rows": [rowIds at ts]}``."""

    def base_url(self) -> str:
        """The configured ``api_url``."""
        return self.config.api_url

    def _team(self) -> dict[str, str]:
        return {"teamId": self.config.team_id} if self.config.team_id else {}

    async def _deployment(self) -> str:
        if self.config.deployment_id:
            return self.config.deployment_id
        data = await self.json(
            "/v6/deployments", params={"projectId": self.config.project_id, "target": "production", "limit": "1", **self._team()}
        )
        deployments = data.get("deployments") if isinstance(data, Mapping) else None
        if not deployments or not isinstance(deployments[0], Mapping) or not deployments[0].get("uid"):
            raise SourceError(f"vercel {self.name}: no production deployment for project {self.config.project_id}")
        return str(deployments[0]["uid"])

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """Runtime log rows newer than the cursor."""
        state = cursor if isinstance(cursor, Mapping) else {}
        deployment = await self._deployment()
        if state.get("deployment") != deployment:
            state = {"deployment": deployment, "ts": 0, "rows": []}
        response = await self.request(
            "GET", f"/v1/projects/{self.config.project_id}/deployments/{deployment}/runtime-logs", params=self._team()
        )
        last_ts = int(state.get("ts") or 0)
        seen = set(state.get("rows") or [])
        result = PollResult()
        newest, newest_rows = last_ts, set(seen)
        for line in response.text.splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if not isinstance(row, Mapping):
                continue
            ts = int(row.get("timestampInMs") or 0)
            row_id = str(row.get("rowId") or "")
            if ts < last_ts or (ts == last_ts and row_id in seen):
                continue
            entry = {
                "id": row_id,
                "timestamp": ts,
                "level": row.get("level"),
                "message": row.get("message"),
                "source": row.get("source"),
                "path": row.get("requestPath"),
                "statusCode": row.get("responseStatusCode"),
                "proxy": {"method": row.get("requestMethod"), "path": row.get("requestPath")},
                "environment": self.config.environment,
            }
            event = self.normaliser.vercel_entry(entry, service=self.service, now=now)
            result.events.append(event)
            if ts > newest:
                newest, newest_rows = ts, {row_id}
            elif ts == newest:
                newest_rows.add(row_id)
        result.cursor = {"deployment": deployment, "ts": newest, "rows": sorted(newest_rows)}
        return result
