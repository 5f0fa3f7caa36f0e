"""Held-out NAB scores: every detector's threshold chosen on one half of the series, scored on the other.

The series are split in two fixed halves (within each NAB category, sorted by name, alternating:
both halves hold every kind of series). For each half, each detector's threshold is chosen by
its normalised score on the *other* half, per profile; the detections of every series then come
from a threshold its own labels never saw, and the score is NAB's normalised score over all the
series (``pooled``) and over each half alone.

- The watcher's detector is re-run at each value of :data:`THRESHOLD_GRID` (its episodes and
  cooldown depend on the threshold), with its other settings at their defaults.
- The baselines use NAB's own optimisation (each point over a threshold is a detection), with
  the candidate thresholds taken from the training half's own scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medic_watcher.domain.series import SeriesDetector

from .anomaly import TOP_SHARES, NabSeries
from .nab import Profile, Windows, normalised_score

__all__ = ["THRESHOLD_GRID", "held_out", "split_halves"]

#: Thresholds (robust deviations) of the watcher's detector the tuning chooses from.
THRESHOLD_GRID: tuple[float, ...] = (4.0, 5.0, 7.0, 10.0)


def split_halves(series: Sequence[NabSeries]) -> tuple[list[str], list[str]]:
    """Two fixed halves: within each category the sorted series alternate between them."""
    halves: tuple[list[str], list[str]] = ([], [])
    by_category: dict[str, list[str]] = {}
    for s in series:
        by_category.setdefault(s.name.split("/", 1)[0], []).append(s.name)
    turn = 0
    for category in sorted(by_category):
        for name in sorted(by_category[category]):
            halves[turn % 2].append(name)
            turn += 1
    return halves


def _medic_detections(series: NabSeries, threshold: float) -> list[int]:
    detector = SeriesDetector(threshold=threshold)
    return [i for i, (t, v) in enumerate(zip(series.timestamps, series.values, strict=True)) if detector.step(t, v).opens]


def _score(
    files: dict[str, tuple[int, Windows]], detections: dict[str, list[int]], names: Sequence[str], profile: Profile
) -> float:
    return normalised_score(files={n: files[n] for n in names}, detections={n: detections[n] for n in names}, profile=profile)


def _flagged(scores: dict[str, list[float]], names: Sequence[str], threshold: float) -> dict[str, list[int]]:
    return {n: [i for i, x in enumerate(scores[n]) if x >= threshold] for n in names}


def _candidates(scores: dict[str, list[float]], names: Sequence[str]) -> list[float]:
    pooled = sorted((x for n in names for x in scores[n]), reverse=True)
    if not pooled:
        return []
    return sorted({c for share in TOP_SHARES if (c := pooled[min(len(pooled) - 1, int(share * len(pooled)))]) > 0})


def held_out(
    series: Sequence[NabSeries],
    profiles: Sequence[Profile],
    baseline_scores: dict[str, dict[str, list[float]]],
    *,
    medic_default: dict[str, list[int]] | None = None,
) -> dict[str, Any] | None:
    """Held-out scores of the watcher's detector and the baselines (``baseline_scores``: kind -> series -> scores).

    ``medic_default``: the detector's detections at its default threshold, if already run. ``None``
    when a half would be empty (fewer than two series).
    """
    files: dict[str, tuple[int, Windows]] = {s.name: (len(s.values), s.windows) for s in series}
    halves = split_halves(series)
    if not halves[0] or not halves[1]:
        return None
    folds = [(halves[1], halves[0]), (halves[0], halves[1])]  # (train, test)
    by_name = {s.name: s for s in series}
    default = SeriesDetector().threshold
    table = {
        t: dict(medic_default)
        if medic_default is not None and t == default
        else {s.name: _medic_detections(by_name[s.name], t) for s in series}
        for t in THRESHOLD_GRID
    }
    result: dict[str, Any] = {
        "method": "two fixed halves (alternating per category); each half's thresholds chosen on the other half",
        "halves": [list(h) for h in halves],
        "detectors": {},
    }
    # Ties go to the default threshold's side: the larger one, fewer detections.
    medic: dict[str, Any] = {}
    for profile in profiles:
        detections: dict[str, list[int]] = {}
        chosen = []
        for train, test in folds:
            best = max(THRESHOLD_GRID, key=lambda t: (round(_score(files, table[t], train, profile), 6), t))
            chosen.append(best)
            detections.update({n: table[best][n] for n in test})
        medic[profile.name] = _report(files, detections, halves, profile, chosen)
    result["detectors"]["medic"] = medic
    for kind, scores in baseline_scores.items():
        report: dict[str, Any] = {}
        for profile in profiles:
            detections = {}
            chosen = []
            for train, test in folds:
                candidates = _candidates(scores, train) or [float("inf")]
                best = max(candidates, key=lambda t: (round(_score(files, _flagged(scores, train, t), train, profile), 6), t))
                chosen.append(best)
                detections.update(_flagged(scores, test, best))
            report[profile.name] = _report(files, detections, halves, profile, chosen)
        result["detectors"][kind] = report
    return result


def _report(
    files: dict[str, tuple[int, Windows]],
    detections: dict[str, list[int]],
    halves: tuple[list[str], list[str]],
    profile: Profile,
    chosen: list[float],
) -> dict[str, Any]:
    return {
        "pooled": round(_score(files, detections, list(files), profile), 2),
        "halves": [round(_score(files, detections, h, profile), 2) if h else None for h in halves],
        # The threshold used on each half (chosen on the other one).
        "thresholds": [round(c, 4) for c in chosen],
    }
