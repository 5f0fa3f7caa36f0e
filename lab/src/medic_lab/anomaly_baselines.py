"""The two baselines ``medic bench anomaly`` runs beside the watcher's detector (streaming, no look-ahead).

- :class:`WindowedGaussian`: NAB's windowed Gaussian detector: mean and standard deviation of the
  last ``window`` points (recomputed every ``step`` points); a point's score is its z against them.
- :class:`EwmaZScore`: exponentially weighted mean and variance; a point's score is its z against
  the estimate before it.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

__all__ = ["EwmaZScore", "WindowedGaussian", "tail_score"]

_FAR = 1e9  # the z of a change in a series that never varied before


def tail_score(z: float) -> float:
    """One minus the two-sided Gaussian tail probability of ``z`` (0 at the mean, towards 1 far out)."""
    return math.erf(abs(z) / math.sqrt(2.0))


@dataclass(slots=True)
class WindowedGaussian:
    """NAB's windowed Gaussian baseline (window 6,400 points, statistics refreshed every 100)."""

    window: int = 6_400
    step: int = 100
    _values: deque[float] = field(default_factory=deque)
    _mean: float = 0.0
    _std: float = 0.0
    _count: int = 0

    def score(self, value: float) -> float:
        """The point's |z| against the window before it, then the point joins the window.

        ``tail_score(z)`` is NAB's anomaly score; the z itself is returned because that score
        rounds to 1.0 beyond z = 8, where thresholds still need to tell points apart.
        """
        score = 0.0
        if self._count > 0:
            score = abs(value - self._mean) / self._std if self._std > 0 else (0.0 if value == self._mean else _FAR)
        self._values.append(value)
        if len(self._values) > self.window:
            self._values.popleft()
        self._count += 1
        if self._count % self.step == 0 or self._count < self.step:
            self._mean = statistics.fmean(self._values)
            self._std = statistics.pstdev(self._values) if len(self._values) > 1 else 0.0
        return score


@dataclass(slots=True)
class EwmaZScore:
    """EWMA z-score baseline (smoothing ``alpha``; the first ``warmup`` points only train it)."""

    alpha: float = 0.05
    warmup: int = 30
    _mean: float | None = None
    _var: float = 0.0
    _count: int = 0

    def score(self, value: float) -> float:
        """The point's |z| against the estimate before it, then the estimate moves towards it."""
        self._count += 1
        if self._mean is None:
            self._mean = value
            return 0.0
        diff = value - self._mean
        std = math.sqrt(self._var)
        score = 0.0
        if self._count > self.warmup:
            score = abs(diff) / std if std > 0 else (0.0 if diff == 0 else _FAR)
        self._mean += self.alpha * diff
        self._var = (1 - self.alpha) * (self._var + self.alpha * diff * diff)
        return score
