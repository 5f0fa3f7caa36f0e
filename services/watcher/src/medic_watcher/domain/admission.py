"""Whether a pushed batch is taken now: per-key rate limits and the bounded backlog, as typed verdicts.

Push endpoints (SDK ingest, webhooks, drains) answer 429 with ``Retry-After`` instead of queueing
without bound: a client told to wait sends later; a watcher that buffers everything runs out of
memory and stops answering its health checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Admission", "AdmissionCode", "TokenBucket", "admit_backlog"]


class AdmissionCode(StrEnum):
    """Why a batch was or was not taken."""

    ACCEPTED = "accepted"
    RATE_LIMITED = "rate_limited"
    BACKLOG_FULL = "backlog_full"


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict on one batch: taken, or refused with how long to wait (whole seconds, for ``Retry-After``)."""

    code: AdmissionCode
    retry_after_s: int = 0
    reason: str = ""

    @property
    def accepted(self) -> bool:
        """True when the batch may be processed."""
        return self.code is AdmissionCode.ACCEPTED


ACCEPTED = Admission(AdmissionCode.ACCEPTED)


@dataclass(slots=True)
class TokenBucket:
    """``rate`` events per second on average, bursts of up to ``burst``; time is passed in, never read."""

    rate: float
    burst: float
    tokens: float = 0.0
    updated: float | None = None  # None until the first take: the bucket starts full

    def take(self, count: int, *, now: float) -> Admission:
        """Take ``count`` tokens at monotonic time ``now``, or say how long until they would be there."""
        if self.updated is None:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        # A batch larger than the burst can never fit: let it through when the bucket is full,
        # leaving the bucket in debt, so big envelopes are slowed rather than refused forever.
        needed = min(float(count), self.burst)
        if self.tokens >= needed:
            self.tokens -= count
            return ACCEPTED
        wait = (needed - self.tokens) / self.rate
        return Admission(AdmissionCode.RATE_LIMITED, max(1, math.ceil(wait)), f"over {self.rate:g} events/s for this key")


def admit_backlog(*, queued: int, incoming: int, capacity: int, drain_per_s: float) -> Admission:
    """Take ``incoming`` events into a backlog holding ``queued`` of ``capacity``, or ask to retry once it drains.

    An empty backlog always takes a batch (even one larger than the capacity), so a single big
    request is never refused forever.
    """
    if queued == 0 or queued + incoming <= capacity:
        return ACCEPTED
    excess = queued + incoming - capacity
    wait = excess / drain_per_s if drain_per_s > 0 else 1.0
    return Admission(
        AdmissionCode.BACKLOG_FULL, max(1, min(60, math.ceil(wait))), f"{queued} events waiting (capacity {capacity})"
    )
