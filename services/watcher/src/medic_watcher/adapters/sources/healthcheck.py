"""HTTP health checks: GET each URL, compare status and latency with what is expected.

A check that fails ``failures_before_alert`` times in a row becomes an availability issue
(severity rules: health check failing → P0); a slow answer beyond its budget is a performance one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from medic_contracts import RequestContext

from ...config import HealthcheckSource as HealthConfig
from ...domain.fields import route_template
from ...domain.normalize import Normaliser
from ...domain.observed import HealthResult, ObservedEvent
from .base import RateLimiter

__all__ = ["HealthChecker"]


class HealthChecker:
    """Probes the configured URLs; cursor: consecutive failures per check."""

    def __init__(
        self, config: HealthConfig, *, service: str, normaliser: Normaliser, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.name = config.name
        self.kind = "healthcheck"
        self.interval_s = config.interval_s
        self.config = config
        self.service = service
        self.normaliser = normaliser
        self.limiter = RateLimiter(config.rate_per_s)
        self.client = httpx.AsyncClient(transport=transport, follow_redirects=False)

    async def _probe(self, url: str, timeout: float) -> tuple[int | None, float, str | None]:
        await self.limiter.acquire()
        started = time.perf_counter()
        try:
            response = await self.client.get(url, timeout=timeout)
        except httpx.HTTPError as exc:
            return None, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}"[:300]
        return response.status_code, (time.perf_counter() - started) * 1000, None

    async def poll(self, cursor: Any, *, now: datetime) -> Any:
        """Probe every check once."""
        from .base import PollResult

        failures: dict[str, int] = dict(cursor.get("failures", {})) if isinstance(cursor, Mapping) else {}
        result = PollResult()
        for check in self.config.checks:
            status, latency, error = await self._probe(check.url, check.timeout_s)
            ok = error is None and status == check.expected_status
            over = ok and check.latency_budget_ms is not None and latency > check.latency_budget_ms
            failures[check.name] = 0 if ok else failures.get(check.name, 0) + 1
            result.health.append(
                HealthResult(
                    name=check.name,
                    url=check.url,
                    service=self.service,
                    timestamp=now,
                    ok=ok,
                    status=status,
                    latency_ms=round(latency, 1),
                    over_budget=over,
                    error=error,
                )
            )
            failing = failures[check.name] >= check.failures_before_alert
            if failing or over:
                why = (
                    f"health check {check.name} failing: {error or f'status {status}, expected {check.expected_status}'}"
                    if failing
                    else f"health check {check.name} slow: {latency:.0f} ms over a {check.latency_budget_ms:.0f} ms budget"
                )
                result.events.append(
                    ObservedEvent(
                        source="healthcheck",
                        service=self.service,
                        timestamp=now,
                        level="error",
                        message=self.normaliser.text(why),
                        request=RequestContext(
                            method="GET",
                            route=route_template(check.url),
                            url=self.normaliser.text(check.url),
                            status=status,
                            duration_ms=round(latency, 1),
                        ),
                        health_check_failing=failing,
                        environment=self.config.environment,
                        tags={"check": check.name, **({"medic.latency_over_budget": "true"} if over and not failing else {})},
                    )
                )
        result.cursor = {"failures": failures}
        return result

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
