"""What every source is: ``poll(cursor) -> PollResult``, with rate-limited HTTP and clear errors."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx

from ...domain.anomaly import RouteMetrics
from ...domain.normalize import Normaliser
from ...domain.observed import HealthResult, ObservedEvent, RouteSample

__all__ = ["HttpSource", "HttpSourceConfig", "PollResult", "RateLimiter", "Source", "SourceError"]


class SourceError(Exception):
    """A source could not be read (bad answer, auth, network); the poller backs off and reports it."""


@dataclass(slots=True)
class PollResult:
    """What one poll produced and the cursor to store with it (in the same transaction)."""

    events: list[ObservedEvent] = field(default_factory=list)
    samples: list[RouteSample] = field(default_factory=list)
    health: list[HealthResult] = field(default_factory=list)
    metrics: list[RouteMetrics] = field(default_factory=list)
    cursor: Any = None
    more: bool = False  # the read stopped at its bound with more waiting: poll again at once


class Source(Protocol):
    """A configured source of one target."""

    name: str
    kind: str
    interval_s: float

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """Read what happened since ``cursor``; raise :class:`SourceError` on failure."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class RateLimiter:
    """A token bucket: at most ``rate`` calls per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, *, burst: int = 5) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until a call is allowed."""
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class HttpSourceConfig(Protocol):
    """What an HTTP source's ``[[sources]]`` entry gives its poller."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def interval_s(self) -> float: ...
    @property
    def rate_per_s(self) -> float: ...
    @property
    def timeout_s(self) -> float: ...


ConfigT = TypeVar("ConfigT", bound=HttpSourceConfig)


class HttpSource(Generic[ConfigT]):
    """Base of HTTP sources: one client, a rate limiter, and responses checked in one place.

    Built from the source's config entry; ``token`` (when not None) is sent as a bearer token.
    """

    def __init__(
        self,
        config: ConfigT,
        *,
        token: str | None,
        service: str,
        normaliser: Normaliser,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.name = config.name
        self.kind = config.kind
        self.interval_s = config.interval_s
        self.normaliser = normaliser
        self.limiter = RateLimiter(config.rate_per_s)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.client = httpx.AsyncClient(
            base_url=self.base_url().rstrip("/"),
            headers=headers,
            timeout=config.timeout_s,
            transport=transport,
            follow_redirects=False,
        )

    def base_url(self) -> str:
        """The API's base URL, from the config (each source names its own field)."""
        raise NotImplementedError

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A rate-limited request; non-2xx answers and transport errors become :class:`SourceError`."""
        await self.limiter.acquire()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.kind} {self.name}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            raise SourceError(f"{self.kind} {self.name}: rate limited (429) on {url}")
        if response.status_code >= 400:
            raise SourceError(f"{self.kind} {self.name}: HTTP {response.status_code} on {url}: {response.text[:300]}")
        return response

    async def json(self, url: str, **kwargs: Any) -> Any:
        """GET JSON."""
        response = await self.request("GET", url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise SourceError(f"{self.kind} {self.name}: {url} did not answer JSON") from exc

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
