"""The anomaly benchmark behind ``medic bench anomaly --data DIR --json`` (DESIGN.md §8).

Every NAB series in DIR (``data/<category>/<name>.csv`` with ``timestamp,value``, plus
``combined_windows.json`` and ``profiles.json``) is streamed point by point, with no look-ahead
and the same settings for every series, through the watcher's :class:`SeriesDetector` and two
baselines run in the same command (NAB's windowed Gaussian, an EWMA z-score). Scores are NAB's
normalised scores (:mod:`medic_lab.nab`) for each profile, in two ways:

- ``as_configured``: each detector's own decisions (the watcher's detector reports the point that
  opens an anomaly; a baseline reports the first point of each run beyond three sigma).
- ``nab_optimised``: NAB's own procedure for every detector alike: each point whose score clears
  a threshold is a detection, and the threshold is the one that maximises the corpus score for
  that profile, among the scores exceeded by a fixed set of shares of the detector's points (one
  threshold for all series, never one per series). This favours the baselines: it is chosen with
  the labels, which a detector running live never sees.
- ``held_out`` (:mod:`medic_lab.anomaly_heldout`): the honest comparison. Every detector's
  threshold is chosen on one fixed half of the series and scored on the other half, both ways;
  no series is scored with a threshold its own labels chose.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medic_watcher.domain.series import SeriesDetector

from .anomaly_baselines import EwmaZScore, WindowedGaussian
from .nab import Profile, Windows, load_profiles, normalised_score, raw_score, windows_as_indices

__all__ = ["TOP_SHARES", "NabSeries", "load_corpus", "run", "run_detector"]

#: NAB-style optimisation tries, for each detector, the deviation exceeded by this share of all its points
#: (pooled over the corpus, so every detector gets thresholds on its own scale).
TOP_SHARES: tuple[float, ...] = (0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001, 0.00005,
                                 0.00002, 0.00001)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NabSeries:
    """One labelled series."""

    name: str  # <category>/<file>.csv, as NAB's label files name it
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]
    windows: tuple[tuple[int, int], ...]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)


def load_corpus(data: Path) -> tuple[list[NabSeries], list[Profile]]:
    """The series of a NAB-style folder (those named in its windows file) and its scoring profiles."""
    windows_file, profiles_file = data / "combined_windows.json", data / "profiles.json"
    if not windows_file.is_file() or not profiles_file.is_file():
        raise FileNotFoundError(f"{data}: needs combined_windows.json and profiles.json")
    labelled: dict[str, list[list[str]]] = json.loads(windows_file.read_text(encoding="utf-8"))
    root = data / "data" if (data / "data").is_dir() else data
    series = []
    for name in sorted(labelled):
        path = root / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            rows = [(r["timestamp"], r["value"]) for r in csv.DictReader(fh)]
        stamps = tuple(_time(t) for t, _ in rows)
        windows = windows_as_indices(stamps, [(_time(a), _time(b)) for a, b in labelled[name]])
        series.append(NabSeries(name, stamps, tuple(float(v) for _, v in rows), tuple(windows)))
    if not series:
        raise FileNotFoundError(f"{data}: no series named in combined_windows.json were found")
    return series, load_profiles(profiles_file)


def _runs(flags: Sequence[bool]) -> list[int]:
    return [i for i, f in enumerate(flags) if f and (i == 0 or not flags[i - 1])]


def run_detector(kind: str, series: NabSeries) -> tuple[list[float], list[int]]:
    """Stream one series through a detector: per-point deviations (|z|) and the detector's own detections."""
    if kind == "medic":
        detector = SeriesDetector()
        verdicts = [detector.step(t, v) for t, v in zip(series.timestamps, series.values, strict=True)]
        return [v.deviation for v in verdicts], [i for i, v in enumerate(verdicts) if v.opens]
    baseline: Callable[[float], float] = WindowedGaussian().score if kind == "windowed_gaussian" else EwmaZScore().score
    scores = [baseline(v) for v in series.values]
    return scores, _runs([s >= 3.0 for s in scores])


def _thresholds(scores: dict[str, list[float]]) -> list[float]:
    pooled = sorted((x for sc in scores.values() for x in sc), reverse=True)
    candidates = {pooled[min(len(pooled) - 1, int(share * len(pooled)))] for share in TOP_SHARES}
    return sorted(c for c in candidates if c > 0)


def _per_profile(
    files: dict[str, tuple[int, Windows]], detections: dict[str, list[int]], profiles: Sequence[Profile]
) -> dict[str, float]:
    return {p.name: round(normalised_score(files=files, detections=detections, profile=p), 2) for p in profiles}


def run(data: Path) -> dict[str, Any]:
    """Score the watcher's detector and both baselines on every series in ``data``."""
    series, profiles = load_corpus(data)
    files: dict[str, tuple[int, Windows]] = {s.name: (len(s.values), s.windows) for s in series}
    result: dict[str, Any] = {"series": len(series), "windows": sum(len(s.windows) for s in series), "detectors": {}}
    all_scores: dict[str, dict[str, list[float]]] = {}
    medic_own: dict[str, list[int]] = {}
    for kind in ("medic", "windowed_gaussian", "ewma_zscore"):
        started = time.perf_counter()
        scores: dict[str, list[float]] = {}
        own: dict[str, list[int]] = {}
        for s in series:
            scores[s.name], own[s.name] = run_detector(kind, s)
        seconds = time.perf_counter() - started
        all_scores[kind] = scores
        if kind == "medic":
            medic_own = own
        optimised: dict[str, Any] = {}
        for profile in profiles:
            best: tuple[float, float] | None = None
            for threshold in _thresholds(scores):
                flagged = {name: [i for i, x in enumerate(sc) if x >= threshold] for name, sc in scores.items()}
                value = normalised_score(files=files, detections=flagged, profile=profile)
                if best is None or value > best[0]:
                    best = (value, threshold)
            assert best is not None
            optimised[profile.name] = {"score": round(best[0], 2), "threshold": best[1]}
        standard = next(p for p in profiles if p.name == "standard")
        per_series = [
            {
                "name": s.name,
                "windows": len(s.windows),
                "detections": len(own[s.name]),
                "raw_standard": round(
                    raw_score(points=len(s.values), windows=s.windows, detections=own[s.name], profile=standard), 3
                ),
            }
            for s in series
        ]
        result["detectors"][kind] = {
            "as_configured": _per_profile(files, own, profiles),
            "nab_optimised": optimised,
            "points_per_s": round(sum(len(s.values) for s in series) / seconds) if seconds > 0 else None,
            "per_series": per_series,
        }
    from .anomaly_heldout import held_out

    baselines = {k: v for k, v in all_scores.items() if k != "medic"}
    result["held_out"] = held_out(series, profiles, baselines, medic_default=medic_own)
    return result
