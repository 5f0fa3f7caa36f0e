"""Watch sources: health checks, the app's /metrics, Prometheus queries and the JSON-lines log.

The same kinds of sources the watcher reads, asked the rollout's questions. A source that does
not answer yields ``None`` (missing data), which the analysis counts as failing.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from medic_contracts import IssueBrief

from ..config import SmokeCheck, StageChecks
from ..domain.analysis import Baseline, CheckName, WatchState
from ..domain.fingerprint import from_release, matches_issue, parse_log_error
from ..domain.samples import Observation, Scrape, observe_metrics

__all__ = ["StageProbe", "active_checks", "run_smoke"]

#: At most this much of a log is read per sample (the rest is read at the next one).
MAX_LOG_READ = 8 * 1024 * 1024


def active_checks(checks: StageChecks) -> set[str]:
    """The checks a stage's configured sources can answer."""
    active: set[str] = set()
    prom = checks.prometheus
    if checks.metrics_url or (prom and prom.error_rate):
        active.add(CheckName.ERROR_RATE)
    if checks.metrics_url or (prom and prom.latency_ms):
        active.add(CheckName.LATENCY)
    if checks.health:
        active.add(CheckName.HEALTH)
    if checks.logfile:
        active |= {CheckName.NEW_FINGERPRINTS, CheckName.RECURRENCE}
    return active


def _is_error_status(value: str) -> bool:
    return value.startswith("5") or value in ("error", "-1")


class StageProbe:
    """Reads one stage's sources."""

    def __init__(
        self, checks: StageChecks, *, issue: IssueBrief, old_release: frozenset[str] = frozenset(), timeout_s: float = 5.0
    ) -> None:
        self.checks = checks
        self.issue = issue
        self.old_release = old_release  # log lines tagged with these were written by the previous release
        self.timeout_s = timeout_s

    # ---- individual sources --------------------------------------------------------------------

    async def scrape(self) -> Scrape | None:
        """Cumulative request, error and latency counters from the app's /metrics (None: unavailable)."""
        if not self.checks.metrics_url:
            return None
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.get(self.checks.metrics_url)
        except httpx.HTTPError:
            return None
        if not response.is_success:
            return None
        try:
            families = list(text_string_to_metric_families(response.text))
        except (ValueError, TypeError, IndexError):
            return None
        requests = errors = lat_sum = lat_count = 0.0
        found = False
        buckets: dict[str, float] = {}
        req_names = {self.checks.requests_metric, self.checks.requests_metric.removesuffix("_total")}
        lat = self.checks.latency_metric
        for family in families:
            for sample in family.samples:
                if sample.name in req_names or (family.name in req_names and sample.name.endswith("_total")):
                    found = True
                    requests += sample.value
                    if _is_error_status(str(sample.labels.get(self.checks.status_label, ""))):
                        errors += sample.value
                elif sample.name == f"{lat}_sum":
                    lat_sum += sample.value
                elif sample.name == f"{lat}_count":
                    lat_count += sample.value
                elif sample.name == f"{lat}_bucket" and "le" in sample.labels:
                    le = sample.labels["le"]
                    buckets[le] = buckets.get(le, 0.0) + sample.value
        if not found:
            return None  # the metric is absent: missing data, not zero traffic
        return Scrape(
            at=time.time(), requests=requests, errors=errors, latency_sum=lat_sum, latency_count=lat_count, buckets=buckets
        )

    async def health(self) -> dict[str, bool]:
        """Each health URL → answered 2xx in time."""

        async def one(client: httpx.AsyncClient, url: str) -> tuple[str, bool]:
            try:
                return url, (await client.get(url)).is_success
            except httpx.HTTPError:
                return url, False

        if not self.checks.health:
            return {}
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            results = await asyncio.gather(*(one(client, url) for url in self.checks.health))
        return dict(results)

    async def _query(self, client: httpx.AsyncClient, promql: str | None) -> float | None:
        if not promql or not self.checks.prometheus:
            return None
        try:
            response = await client.get(f"{self.checks.prometheus.url.rstrip('/')}/api/v1/query", params={"query": promql})
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        if not response.is_success or body.get("status") != "success":
            return None
        result = (body.get("data") or {}).get("result") or []
        if not result:
            return None  # an empty vector is missing data
        try:
            value = float(result[0]["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        return None if math.isnan(value) or math.isinf(value) else value

    async def prometheus(self) -> tuple[float | None, float | None, float | None]:
        """(error_rate, latency_ms, rps) from the configured PromQL queries."""
        prom = self.checks.prometheus
        if prom is None:
            return None, None, None
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            return (
                await self._query(client, prom.error_rate),
                await self._query(client, prom.latency_ms),
                await self._query(client, prom.rps),
            )

    def log_size(self) -> int | None:
        """The log's current size (where the watch starts reading), None when unreadable."""
        if not self.checks.logfile:
            return None
        try:
            return Path(self.checks.logfile).stat().st_size
        except OSError:
            return None

    def scan_log(self, offset: int, *, skip_old: bool = True) -> tuple[list[str], int, int] | None:
        """Error fingerprints and recurrences of the fixed error after ``offset``: (fingerprints, recurrences, new offset).

        With ``skip_old``, lines tagged with the previous release are left out: they are the old
        deployment's (still draining), not the new one's. Untagged lines count against the new one.
        """
        if not self.checks.logfile:
            return None
        path = Path(self.checks.logfile)
        try:
            size = path.stat().st_size
            start = 0 if size < offset else offset  # the log was rotated or truncated
            with path.open("rb") as fh:
                fh.seek(start)
                chunk = fh.read(MAX_LOG_READ)
        except OSError:
            return None
        end = chunk.rfind(b"\n")
        if end < 0:
            return [], 0, start
        fingerprints: set[str] = set()
        recurrences = 0
        for raw in chunk[: end + 1].splitlines():
            error = parse_log_error(raw.decode("utf-8", errors="replace"))
            if error is None or (skip_old and from_release(error, self.old_release)):
                continue
            fingerprints.add(error.fingerprint)
            if matches_issue(error, self.issue):
                recurrences += 1
        return sorted(fingerprints), recurrences, start + end + 1

    # ---- what the rollout asks -----------------------------------------------------------------

    async def baseline(self, *, first: Scrape | None) -> Baseline:
        """The stage before the deploy: rates between ``first`` and now, the log's known errors and size."""
        baseline = Baseline()
        if self.checks.metrics_url:
            current = await self.scrape()
            if first is None or current is None:
                baseline.missing.append("metrics")
            else:
                obs = observe_metrics(first, current)
                baseline.error_rate = 0.0 if obs.idle else obs.error_rate
                baseline.latency_ms, baseline.rps = obs.latency_ms, obs.rps
        if self.checks.prometheus:
            rate, latency, rps = await self.prometheus()
            if self.checks.prometheus.error_rate:
                baseline.error_rate = rate
                if rate is None:
                    baseline.missing.append("prometheus.error_rate")
            if self.checks.prometheus.latency_ms:
                baseline.latency_ms = latency
                if latency is None:
                    baseline.missing.append("prometheus.latency_ms")
            baseline.rps = rps if rps is not None else baseline.rps
        if self.checks.logfile:
            size = self.log_size()
            if size is None:
                baseline.missing.append("logfile")
            else:
                known = self.scan_log(max(size - MAX_LOG_READ, 0), skip_old=False)  # every error already there is known
                baseline.fingerprints = known[0] if known else []
                baseline.log_offset = size
        return baseline

    async def observe(self, state: WatchState) -> Observation:
        """One sample since the previous one; advances ``state.previous`` and ``state.log_offset``."""
        obs = Observation()
        if self.checks.metrics_url:
            current = await self.scrape()
            if current is None:
                obs.missing.append("metrics")
            elif state.previous is None:
                obs.idle = True
            else:
                obs = observe_metrics(state.previous, current)
            if current is not None:
                state.previous = current
        if self.checks.prometheus:
            rate, latency, rps = await self.prometheus()
            prom = self.checks.prometheus
            if prom.error_rate:
                obs.error_rate, obs.idle = rate, False
                if rate is None:
                    obs.missing.append("metrics")
            if prom.latency_ms:
                obs.latency_ms = latency
                if latency is None and "metrics" not in obs.missing:
                    obs.missing.append("metrics")
            obs.rps = rps if rps is not None else obs.rps
        obs.health = await self.health()
        if self.checks.logfile:
            scanned = self.scan_log(state.log_offset or 0)
            if scanned is None:
                obs.missing.append("logfile")
            else:
                obs.fingerprints, obs.recurrences, state.log_offset = scanned
        return obs


async def run_smoke(checks: tuple[SmokeCheck, ...]) -> list[tuple[SmokeCheck, bool, str]]:
    """Run each smoke check once: (check, passed, why)."""
    results: list[tuple[SmokeCheck, bool, str]] = []
    async with httpx.AsyncClient() as client:
        for check in checks:
            try:
                response = await client.request(check.method, check.url, timeout=check.timeout_s)
            except httpx.HTTPError as exc:
                results.append((check, False, f"{check.method} {check.url}: {type(exc).__name__}"))
                continue
            if response.status_code != check.expect_status:
                why = f"{check.method} {check.url}: status {response.status_code}, expected {check.expect_status}"
                results.append((check, False, why))
            elif check.contains is not None and check.contains not in response.text:
                results.append((check, False, f"{check.method} {check.url}: body lacks {check.contains!r}"))
            else:
                results.append((check, True, f"{check.method} {check.url}: {response.status_code}"))
    return results
