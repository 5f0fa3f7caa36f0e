"""The Numenta Anomaly Benchmark's scoring, written from its definitions.

Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms - the Numenta Anomaly
Benchmark" (ICMLA 2015), and Ahmad et al. (Neurocomputing 2017):

- Each labelled window ``[start, end]`` is a run of points. A detection inside a window is a
  true positive weighted by the scaled sigmoid of its relative position ``y = -(end - i + 1) /
  width`` (``-1`` at the window's first point, near ``0`` at its last): ``A_TP * σ(y) / σ(-1)``
  with ``σ(y) = 2 / (1 + e^{5y}) - 1``. Only the first detection in a window counts; the later
  ones in the same window neither add nor cost.
- A detection outside every window is a false positive: ``A_FP * σ(y)`` with ``y`` its distance
  past the preceding window's end in widths (``σ(y) = -1`` for ``y > 3``, and ``-1`` before the
  first window), so a detection just after a window costs less than one far from any.
- A window without a detection costs ``-A_FN``.
- Points in the probationary period (the first ``min(15% of the file, 750)`` points) are not scored.
- The raw score over all files is normalised: ``100 * (raw - null) / (perfect - null)``, where the
  null detector detects nothing (``-A_FN`` per window) and the perfect one detects each window at
  its first point (``A_TP`` per window).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "PROBATION_PERCENT",
    "Profile",
    "Windows",
    "load_profiles",
    "normalised_score",
    "probation_length",
    "raw_score",
    "scaled_sigmoid",
    "windows_as_indices",
]

PROBATION_PERCENT = 0.15


@dataclass(frozen=True, slots=True)
class Profile:
    """One NAB cost matrix."""

    name: str
    tp: float
    fp: float
    fn: float


#: Each window as (first index, last index) into its file's points.
Windows = Sequence[tuple[int, int]]


def load_profiles(path: Path) -> list[Profile]:
    """NAB's ``profiles.json`` as profiles (standard, reward_low_FP_rate, reward_low_FN_rate)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Profile(name=name, tp=float(m["CostMatrix"]["tpWeight"]), fp=float(m["CostMatrix"]["fpWeight"]),
                fn=float(m["CostMatrix"]["fnWeight"]))
        for name, m in raw.items()
    ]  # fmt: skip


def scaled_sigmoid(y: float) -> float:
    """NAB's scaled sigmoid: ``2 / (1 + e^{5y}) - 1``, and ``-1`` beyond three widths past a window."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_length(points: int) -> int:
    """The unscored head of a file: 15% of its points, at most 15% of 5,000."""
    return int(min(math.floor(PROBATION_PERCENT * points), PROBATION_PERCENT * 5000))


def windows_as_indices(timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """Labelled windows (timestamps) as index ranges into ``timestamps`` (points inside each window)."""
    out = []
    for start, end in windows:
        inside = [i for i, t in enumerate(timestamps) if start <= t <= end]
        if inside:
            out.append((inside[0], inside[-1]))
    return out


def raw_score(*, points: int, windows: Windows, detections: Sequence[int], profile: Profile) -> float:
    """One file's raw NAB score for the detections (indices of points flagged anomalous)."""
    probation = probation_length(points)
    ordered = sorted(windows)
    window_of: dict[int, int] = {}
    for index, (first, last) in enumerate(ordered):
        for i in range(first, last + 1):
            window_of[i] = index
    detected: set[int] = set()
    score = 0.0
    for i in sorted(set(detections)):
        if i < probation or i >= points:
            continue
        w = window_of.get(i)
        if w is not None:
            if w in detected:
                continue  # only the first detection in a window counts
            detected.add(w)
            first, last = ordered[w]
            width = last - first + 1
            score += profile.tp * scaled_sigmoid(-(last - i + 1) / width) / scaled_sigmoid(-1.0)
            continue
        before = [win for win in ordered if win[1] < i]
        if not before:
            score += profile.fp * -1.0
        else:
            first, last = before[-1]
            score += profile.fp * scaled_sigmoid(abs(i - last) / (last - first + 1))
    score -= profile.fn * (len(ordered) - len(detected))
    return score


def normalised_score(
    *, files: Mapping[str, tuple[int, Windows]], detections: Mapping[str, Sequence[int]], profile: Profile
) -> float:
    """The corpus score: 100 for the perfect detector, 0 for the null detector (may be negative)."""
    raw = null = perfect = 0.0
    for name, (points, windows) in files.items():
        raw += raw_score(points=points, windows=windows, detections=detections.get(name, ()), profile=profile)
        null -= profile.fn * len(windows)
        perfect += profile.tp * len(windows)
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)
