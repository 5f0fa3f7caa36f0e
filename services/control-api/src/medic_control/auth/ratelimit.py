"""A token bucket per client for write endpoints (429 when a client floods them)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["WriteLimiter"]


@dataclass(slots=True)
class WriteLimiter:
    """``rate_per_minute`` writes per client, with bursts up to ``burst``."""

    rate_per_minute: int
    burst: int
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, client: str, *, now: float | None = None) -> float:
        """Take one write for ``client``: 0 when allowed, else seconds until the next is allowed."""
        now = time.monotonic() if now is None else now
        rate = self.rate_per_minute / 60.0
        tokens, at = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * rate)
        if tokens >= 1.0:
            self.buckets[client] = (tokens - 1.0, now)
            return 0.0
        self.buckets[client] = (tokens, now)
        if len(self.buckets) > 100_000:
            self.buckets.clear()
        return (1.0 - tokens) / rate
