"""Streaming anomaly detection on one metric series: robust, seasonality aware, change-point tolerant.

Each point is judged once, on arrival, against what came before it (no look-ahead):

- **Learning.** Nothing is reported before ``warmup`` points, and before a whole day of points
  where the series is regular enough to have a day.
- **Expected value.** Two predictors run side by side: the *level* (median of the recent
  normal points) and the *seasonal* one (median of the points one, two and three days earlier
  at the same time of day, when the series is regular enough to have a day). Each keeps its
  own recent residuals; the one whose residuals are smaller (median absolute residual: a biased
  predictor loses too) judges the point, so
  a daily cycle stops looking like daily anomalies once three days are known, and a series
  without one is judged on its level.
- **Deviation.** ``z = |observed - expected| / (1.4826 * MAD(residuals))``: median and MAD, so a
  burst of outliers neither drags the expectation nor widens the tolerance. A floor on the
  scale (a small share of the level) keeps a flat series from turning noise into incidents.
- **Episodes.** ``z >= threshold`` opens an anomaly (the only point reported as a detection);
  it stays open while points stay anomalous and closes after ``close_after`` normal points; a
  new one cannot open within ``cooldown`` points of the last. Anomalous points never enter the
  baselines, so an incident cannot teach the detector that it is normal ...
- **Change points.** ... unless it lasts: after ``accept_after`` consecutive anomalous points the
  series has a new regime, and the points of the episode become its baseline.

Every verdict carries its evidence: the expected value, the tolerated range and the deviation.

The running watcher judges its per-minute error-rate, latency and traffic series with this same
class (through :mod:`.anomaly`, which keeps one detector per series); its state round-trips
through :meth:`SeriesDetector.export_state` / :meth:`SeriesDetector.load_state` as plain JSON so
it survives restarts in the watcher's store.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["SeriesDetector", "SeriesVerdict"]

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class SeriesVerdict:
    """The judgement of one point: whether it opens an anomaly, and the evidence."""

    at: datetime
    observed: float
    expected: float | None
    low: float | None  # the tolerated range at this point
    high: float | None
    deviation: float  # robust z: |observed - expected| in robust standard deviations
    score: float  # 0..1, monotone in the deviation (0.5 at the threshold)
    opens: bool  # this point opens an anomaly episode (the detection)
    anomalous: bool  # this point is outside the tolerated range
    model: str  # "level" | "seasonal" | "warmup"


class _RollingMedian:
    """Median and MAD of the last ``size`` values (a sorted list beside the arrival order)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.order: deque[float] = deque()
        self.sorted: list[float] = []

    def add(self, value: float) -> None:
        self.order.append(value)
        bisect.insort(self.sorted, value)
        if len(self.order) > self.size:
            old = self.order.popleft()
            del self.sorted[bisect.bisect_left(self.sorted, old)]

    def __len__(self) -> int:
        return len(self.order)

    def median(self) -> float:
        s, n = self.sorted, len(self.sorted)
        return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

    def quantile(self, q: float) -> float:
        s = self.sorted
        return s[min(len(s) - 1, int(q * len(s)))] if s else math.inf

    def mad(self) -> float:
        """Median absolute deviation from the median."""
        if not self.sorted:
            return math.inf
        m = self.median()
        return statistics.median(abs(v - m) for v in self.sorted)

    def spread(self) -> float:
        """Median absolute value (of residuals: their typical size around zero, bias included)."""
        if not self.sorted:
            return math.inf
        return statistics.median(abs(v) for v in self.sorted)


@dataclass(slots=True)
class SeriesDetector:
    """A streaming detector for one series (see module docstring); ``step`` judges each point."""

    threshold: float = 7.0
    warmup: int = 30
    history: int = 400
    residuals: int = 400
    close_after: int = 6
    cooldown: int = 144  # points (12 hours of 5-minute points): one open issue covers a longer incident
    accept_after: int = 72
    scale_floor: float = 0.01  # the deviation's scale is at least this share of the level
    rarity: float = 0.01  # an anomaly's residual must exceed all but this share of recent ones (anomalies included)
    recent: int = 2_000
    margin: float = 1.5  # ... by this many robust deviations
    seasonal: bool = True  # off: level predictor only, no day of learning (short-lived minute series)
    _values: deque[float] = field(default_factory=deque)  # normal values in arrival order (for seasonal lags)
    _times: deque[float] = field(default_factory=deque)
    _level: _RollingMedian | None = None
    _level_res: _RollingMedian | None = None
    _season_res: _RollingMedian | None = None
    _level_all: _RollingMedian | None = None  # |residual| of every recent point, anomalous ones too
    _season_all: _RollingMedian | None = None
    _step_s: float | None = None
    _last_at: float | None = None
    _open: bool = False
    _normal_run: int = 0
    _since_open: int = 10**9
    _episode: list[tuple[float, float]] = field(default_factory=list)
    _seen: int = 0
    _pending: list[tuple[float, float | None]] = field(default_factory=list)  # |residuals| of the open episode

    def __post_init__(self) -> None:
        self._level = _RollingMedian(self.history)
        self._level_res = _RollingMedian(self.residuals)
        self._season_res = _RollingMedian(self.residuals)
        self._level_all = _RollingMedian(self.recent)
        self._season_all = _RollingMedian(self.recent)

    # ---- predictors -------------------------------------------------------------------------

    def _period(self) -> int | None:
        if not self.seasonal or self._step_s is None or self._step_s <= 0:
            return None
        period = round(_DAY_S / self._step_s)
        return period if 4 <= period <= 2_000 else None

    def _seasonal(self, at: float) -> float | None:
        period = self._period()
        if period is None or self._step_s is None:
            return None
        # Values one, two and three days back (by time, tolerating gaps), each with its neighbours.
        picks: list[float] = []
        times, values = self._times, self._values
        for days in (1, 2, 3):
            target = at - days * _DAY_S
            i = bisect.bisect_left(times, target)
            for j in (i - 1, i, i + 1):
                if 0 <= j < len(times) and abs(times[j] - target) <= 1.5 * self._step_s:
                    picks.append(values[j])
        return statistics.median(picks) if len(picks) >= 4 else None

    def step(self, at: datetime, value: float) -> SeriesVerdict:
        """Judge one point (in time order) and fold it into the baselines."""
        assert self._level is not None and self._level_res is not None and self._season_res is not None
        t = at.timestamp()
        if self._last_at is not None and t > self._last_at:
            gap = t - self._last_at
            self._step_s = gap if self._step_s is None else min(self._step_s, gap) if self._seen < 10 else self._step_s
        self._last_at = t
        self._seen += 1
        self._since_open += 1
        if len(self._level) < self.warmup:
            self._remember(t, value, None, None)
            return SeriesVerdict(at, value, None, None, None, 0.0, 0.0, False, False, "warmup")

        level = self._level.median()
        seasonal = self._seasonal(t)
        assert self._level_all is not None and self._season_all is not None
        model, expected, res, everything = "level", level, self._level_res, self._level_all
        if seasonal is not None and len(self._season_res) >= self.warmup and self._season_res.spread() < self._level_res.spread():
            model, expected, res, everything = "seasonal", seasonal, self._season_res, self._season_all
        if len(res) < self.warmup or self._seen < (self._period() or 0):
            self._level_all.add(abs(value - level))
            if seasonal is not None:
                self._season_all.add(abs(value - seasonal))
            # The residuals' own warm-up, and a whole day first where a day is a period: a cycle
            # seen for the first time looks like a trend.
            self._remember(t, value, level, seasonal)
            return SeriesVerdict(at, value, None, None, None, 0.0, 0.0, False, False, "warmup")
        spread = 1.4826 * res.mad()
        scale = max(spread, self.scale_floor * max(abs(level), 1e-9), 1e-9)
        deviation = abs(value - expected) / scale
        # Excursions that keep recurring (a job spiking the CPU every hour) are the series' normal:
        # only a residual clearly larger than nearly all recent ones, anomalous ones included, is an anomaly.
        usual = everything.quantile(1 - self.rarity) if len(everything) >= self.warmup else 0.0
        anomalous = deviation >= self.threshold and abs(value - expected) > usual + self.margin * scale
        # An episode's own points join the pool of usual residuals only once it ends: a lasting
        # incident must not make its second minute look usual (recurring episodes still do).
        self._pending.append((abs(value - level), None if seasonal is None else abs(value - seasonal)))
        opens = False
        if anomalous:
            self._normal_run = 0
            if not self._open and self._since_open >= self.cooldown:
                opens = True
                self._since_open = 0
            self._open = True
            self._episode.append((t, value))
            if len(self._episode) >= self.accept_after:
                self._accept_regime()
        else:
            self._normal_run += 1
            if self._open and self._normal_run >= self.close_after:
                self._open = False
            self._episode.clear()
            self._flush_pending()
            self._remember(t, value, level, seasonal)
        score = deviation / (deviation + self.threshold)
        tolerance = self.threshold * scale
        return SeriesVerdict(at, value, expected, expected - tolerance, expected + tolerance, deviation, score, opens,
                             anomalous, model)  # fmt: skip

    def _accept_regime(self) -> None:
        # A lasting shift is the new normal: the episode's points become the level and its spread;
        # the seasonal predictor starts over (its days ago belong to the old regime).
        self._level = _RollingMedian(self.history)
        self._level_res = _RollingMedian(self.residuals)
        self._season_res = _RollingMedian(self.residuals)
        for t, value in self._episode:
            self._level.add(value)
            self._values.append(value)
            self._times.append(t)
        median = self._level.median()
        for _, value in self._episode:
            self._level_res.add(value - median)
        self._trim()
        self._episode.clear()
        self._flush_pending()
        self._open = False

    def _flush_pending(self) -> None:
        assert self._level_all is not None and self._season_all is not None
        for level_res, season_res in self._pending:
            self._level_all.add(level_res)
            if season_res is not None:
                self._season_all.add(season_res)
        self._pending.clear()

    def _remember(self, t: float, value: float, level: float | None, seasonal: float | None) -> None:
        assert self._level is not None and self._level_res is not None and self._season_res is not None
        if level is not None:
            self._level_res.add(value - level)
        if seasonal is not None:
            self._season_res.add(value - seasonal)
        self._level.add(value)
        self._values.append(value)
        self._times.append(t)
        self._trim()

    def _trim(self) -> None:
        period = self._period() or 0
        while len(self._values) > max(self.history, 3 * period + 3):
            self._values.popleft()
            self._times.popleft()

    # ---- persistence ------------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """What the detector has learnt, as plain JSON (the settings are not included: they come from config)."""
        assert self._level is not None and self._level_res is not None and self._season_res is not None
        assert self._level_all is not None and self._season_all is not None
        return {
            "values": list(self._values),
            "times": list(self._times),
            "level": list(self._level.order),
            "level_res": list(self._level_res.order),
            "season_res": list(self._season_res.order),
            "level_all": list(self._level_all.order),
            "season_all": list(self._season_all.order),
            "step_s": self._step_s,
            "last_at": self._last_at,
            "open": self._open,
            "normal_run": self._normal_run,
            "since_open": self._since_open,
            "episode": [list(p) for p in self._episode],
            "seen": self._seen,
            "pending": [list(p) for p in self._pending],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`export_state`'s output; windows shorter than stored keep the newest values."""
        self.__post_init__()
        assert self._level is not None and self._level_res is not None and self._season_res is not None
        assert self._level_all is not None and self._season_all is not None
        for rolling, key in (
            (self._level, "level"),
            (self._level_res, "level_res"),
            (self._season_res, "season_res"),
            (self._level_all, "level_all"),
            (self._season_all, "season_all"),
        ):
            for value in state.get(key, []):
                rolling.add(float(value))
        self._values = deque(float(v) for v in state.get("values", []))
        self._times = deque(float(t) for t in state.get("times", []))
        step_s, last_at = state.get("step_s"), state.get("last_at")
        self._step_s = None if step_s is None else float(step_s)
        self._last_at = None if last_at is None else float(last_at)
        self._open = bool(state.get("open", False))
        self._normal_run = int(state.get("normal_run", 0))
        self._since_open = int(state.get("since_open", 10**9))
        self._episode = [(float(t), float(v)) for t, v in state.get("episode", [])]
        self._seen = int(state.get("seen", 0))
        self._pending = [(float(a), None if b is None else float(b)) for a, b in state.get("pending", [])]
        self._trim()
