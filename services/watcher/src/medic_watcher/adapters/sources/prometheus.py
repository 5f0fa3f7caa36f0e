"""Prometheus: per-route requests, 5xx and p95 latency from the HTTP query API.

``GET /api/v1/query?query=…&time=…`` answers ``{"status": "success", "data": {"resultType":
"vector", "result": [{"metric": {...}, "value": [ts, "v"]}]}}``. The three instant queries give
one :class:`RouteMetrics` per route, which anomaly detection compares with its baselines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...config import PrometheusSource as PrometheusConfig
from ...domain.anomaly import RouteMetrics
from .base import HttpSource, PollResult, SourceError

__all__ = ["PrometheusPoller"]


class PrometheusPoller(HttpSource[PrometheusConfig]):
    """Queries Prometheus each interval; no cursor (instant queries)."""

    def base_url(self) -> str:
        """The configured ``url``."""
        return self.config.url

    async def _vector(self, query: str, now: datetime) -> dict[str, float]:
        data = await self.json("/api/v1/query", params={"query": query, "time": f"{now.timestamp():.3f}"})
        if not isinstance(data, Mapping) or data.get("status") != "success":
            raise SourceError(f"prometheus {self.name}: query failed: {str(data)[:300]}")
        out: dict[str, float] = {}
        for series in _dict(data.get("data")).get("result") or []:
            if not isinstance(series, Mapping):
                continue
            route = str(_dict(series.get("metric")).get(self.config.route_label, "*"))
            value = series.get("value")
            try:
                number = float(value[1]) if isinstance(value, list) and len(value) == 2 else math.nan
            except (TypeError, ValueError):
                number = math.nan
            if math.isfinite(number):
                out[route] = number
        return out

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """One metrics point per route."""
        requests = await self._vector(self.config.requests_query, now)
        errors = await self._vector(self.config.errors_query, now)
        p95 = await self._vector(self.config.p95_query, now)
        result = PollResult(cursor=cursor)
        for route in sorted(set(requests) | set(errors)):
            result.metrics.append(
                RouteMetrics(
                    service=self.service,
                    route=route,
                    at=now,
                    requests=requests.get(route, 0.0),
                    errors=errors.get(route, 0.0),
                    p95_ms=p95.get(route),
                )
            )
        return result


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
