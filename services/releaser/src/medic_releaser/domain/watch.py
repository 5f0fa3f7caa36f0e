"""Is the watch window fully observed? Pure rules over the watch's recorded coverage.

A watch window is a length of *observed* time, not a deadline on the wall clock. Each sample
vouches for the time since the previous one, but only up to ``max_gap_s``: a longer gap is time
nobody looked at the stage (the releaser crashed, the service was paused, the host stalled), and
it does not count. The watch goes on after a restart or a resume until the observed time covers
the whole window, so a rollout is never promoted on samples that all predate an outage. A sample
taken after such a gap reads what the gap left behind (the log since the last offset, the counters
since the last scrape), and a bad look at it is final: the unobserved time cannot be sampled again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Coverage", "SampleCoverage", "WatchProgress", "max_gap_for", "sample_coverage", "watch_progress"]


class WatchProgress(StrEnum):
    """Where the watch stands against its window."""

    OBSERVING = "observing"  # observed time is short of the window: sample again
    COMPLETE = "complete"  # the whole window was observed: decide


@dataclass(frozen=True, slots=True)
class SampleCoverage:
    """What one sample adds to the watch."""

    covered_s: float  # seconds of the window this sample vouches for
    gap_s: float  # seconds before it that nobody observed (0 on a regular sample)

    @property
    def after_gap(self) -> bool:
        """True when the sample follows unobserved time (a crash, a pause)."""
        return self.gap_s > 0


@dataclass(frozen=True, slots=True)
class Coverage:
    """The watch's verdict on its window: complete or not, and how much is left."""

    progress: WatchProgress
    observed_s: float
    window_s: float
    remaining_s: float

    @property
    def complete(self) -> bool:
        """True when the whole window was observed."""
        return self.progress is WatchProgress.COMPLETE


def max_gap_for(sample_interval_s: float) -> float:
    """The longest interval one sample may vouch for: two intervals and a second of scheduling slack."""
    return 2 * sample_interval_s + 1.0


def sample_coverage(*, last_at: float | None, now: float, max_gap_s: float) -> SampleCoverage:
    """The time a sample at ``now`` covers since the previous look at ``last_at`` (the watch start first)."""
    if last_at is None or now <= last_at:
        return SampleCoverage(covered_s=0.0, gap_s=0.0)
    elapsed = now - last_at
    if elapsed <= max_gap_s:
        return SampleCoverage(covered_s=elapsed, gap_s=0.0)
    # Only the last stretch before this sample is vouched for; the rest of the gap was never watched.
    return SampleCoverage(covered_s=max_gap_s, gap_s=elapsed - max_gap_s)


def watch_progress(*, observed_s: float, window_s: float) -> Coverage:
    """Whether ``observed_s`` of watching covers a ``window_s`` window, and what remains to observe."""
    remaining = max(window_s - observed_s, 0.0)
    progress = WatchProgress.COMPLETE if remaining <= 0 else WatchProgress.OBSERVING
    return Coverage(progress=progress, observed_s=observed_s, window_s=window_s, remaining_s=remaining)
