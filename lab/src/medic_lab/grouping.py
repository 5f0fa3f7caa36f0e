"""The grouping benchmark behind ``medic bench grouping`` (DESIGN.md §8).

For every Loghub-style system in a directory (``X_2k.log_structured.csv`` with ``Content`` and
``EventId`` columns), group the ``Content`` lines with Medic's :class:`TemplateMiner` and with
Drain3 (its example configuration's standard masking, sim_th 0.4, depth 4), in the same run, and
score both with GA exactly as logparser's ``evaluator.get_accuracy`` computes it, plus
Loghub-2.0's FGA, PA and FTA (:mod:`medic_lab.grouping_metrics`).

``cross_validate`` is the honest score: leave one system out, choose the miner's one parameter
(``min_distinct`` and ``min_shared``) on the others, score the held-out system with them.
"""

from __future__ import annotations

import gc
import logging
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from medic_watcher.domain.templates import DEFAULT_MIN_DISTINCT, DEFAULT_MIN_SHARED, TemplateMiner

from .grouping_metrics import ParsingScores, grouping_accuracy, score_parsing
from .loghub import LogSystem, find_systems

__all__ = [
    "MIN_DISTINCT_GRID",
    "MIN_SHARED_GRID",
    "LogSystem",
    "cross_validate",
    "drain3_grouping",
    "drain3_parse",
    "find_systems",
    "grouping_accuracy",
    "medic_grouping",
    "medic_parse",
    "run",
]

#: The values of ``min_distinct`` cross-validation chooses from (distinct values under one skeleton).
MIN_DISTINCT_GRID: tuple[int, ...] = (3, 4, 5, 6, 8, 12)
#: The values of ``min_shared`` it chooses from (values one position shares with another skeleton's).
#: Not 2: a two-valued event word (``opened``/``closed``) recurs with the same two values under
#: every user's skeleton, so two shared values cannot tell an entity from an event word.
MIN_SHARED_GRID: tuple[int, ...] = (3, 4, 5)

#: Drain3's standard masking: the ``[MASKING]`` section of Drain3's examples/drain3.ini.
DRAIN3_MASKING: tuple[tuple[str, str], ...] = (
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
)


def medic_parse(
    lines: Sequence[str], *, min_distinct: int = DEFAULT_MIN_DISTINCT, min_shared: int = DEFAULT_MIN_SHARED
) -> tuple[list[int], list[str]]:
    """Medic's final cluster and template per line (ids handed out earlier resolve to their merges)."""
    miner = TemplateMiner(min_distinct=min_distinct, min_shared=min_shared)
    ids = [miner.cluster_id(line) for line in lines]
    resolved = [miner.resolve(i) for i in ids]
    templates = [miner.template(i) or line for i, line in zip(resolved, lines, strict=True)]
    return resolved, templates


def medic_grouping(lines: Sequence[str], *, min_distinct: int = DEFAULT_MIN_DISTINCT) -> list[int]:
    """Medic's cluster per line (final clusters: ids handed out earlier resolve to their merges)."""
    miner = TemplateMiner(min_distinct=min_distinct)
    ids = [miner.cluster_id(line) for line in lines]
    return [miner.resolve(i) for i in ids]


def _drain3_miner() -> Any:
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    logging.getLogger("drain3").setLevel(logging.WARNING)
    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(pattern, mask) for pattern, mask in DRAIN3_MASKING]
    config.mask_prefix, config.mask_suffix = "<:", ":>"
    config.drain_sim_th = 0.4
    config.drain_depth = 4
    config.drain_max_children = 100
    config.drain_max_clusters = None
    config.drain_extra_delimiters = ["_"]
    config.profiling_enabled = False
    return Drain3Miner(config=config)


def drain3_grouping(lines: Sequence[str]) -> list[int]:
    """Drain3's cluster per line with its standard masking."""
    miner = _drain3_miner()
    return [int(miner.add_log_message(line)["cluster_id"]) for line in lines]


def drain3_parse(lines: Sequence[str]) -> tuple[list[int], list[str]]:
    """Drain3's final cluster and template per line; its ``<:NUM:>``-style masks written as ``<*>``."""
    import re

    miner = _drain3_miner()
    ids = [int(miner.add_log_message(line)["cluster_id"]) for line in lines]
    mask = re.compile(r"<:[A-Z]+:>")
    templates = {c.cluster_id: mask.sub("<*>", c.get_template()) for c in miner.drain.clusters}
    return ids, [templates.get(i, "") for i in ids]


def _measure(fn: Callable[[Sequence[str]], list[int]], lines: Sequence[str], repeat: int) -> tuple[list[int], float]:
    best = float("inf")
    result: list[int] = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn(lines)
        best = min(best, time.perf_counter() - started)
    return result, len(lines) / best if best > 0 else float("inf")


def _scores(system: LogSystem, parsed: tuple[list[int], list[str]]) -> ParsingScores:
    ids, templates = parsed
    return score_parsing(truth_ids=system.event_ids, truth_templates=system.templates, parsed_ids=ids, parsed_templates=templates)


def _metrics(scores: ParsingScores) -> dict[str, float]:
    return {"ga": round(scores.ga, 4), "fga": round(scores.fga, 4), "pa": round(scores.pa, 4), "fta": round(scores.fta, 4)}


def run(data: Path, *, repeat: int = 3, corrected: bool = False) -> dict[str, Any]:
    """Benchmark every system in ``data``: GA, FGA, PA, FTA and lines/s for Medic and Drain3 (DESIGN.md §8 shape).

    GA is scored against the original labels by default (what published Drain numbers use);
    ``corrected`` scores against the ``_corrected`` files where present (Loghub-2.0's labels).
    """
    systems = find_systems(data, corrected=corrected)
    if not systems:
        raise FileNotFoundError(f"{data}: no *_structured.csv files with Content and EventId columns")
    rows: list[dict[str, Any]] = []
    for system in systems:
        _, medic_speed = _measure(medic_grouping, system.lines, repeat)
        _, drain_speed = _measure(drain3_grouping, system.lines, repeat)
        medic, drain = medic_parse(system.lines), drain3_parse(system.lines)
        ms, ds = _scores(system, medic), _scores(system, drain)
        rows.append(
            {
                "name": system.name,
                "lines": len(system.lines),
                "medic": {"ga": round(ms.ga, 4), "lines_per_s": round(medic_speed)},
                "drain3": {"ga": round(ds.ga, 4), "lines_per_s": round(drain_speed)},
                "metrics": {"medic": _metrics(ms), "drain3": _metrics(ds)},
                "groups": {"truth": ms.truth_groups, "medic": ms.predicted_groups, "drain3": ds.predicted_groups},
            }
        )
    total_lines = sum(r["lines"] for r in rows)
    medic_time = sum(r["lines"] / r["medic"]["lines_per_s"] for r in rows)
    drain_time = sum(r["lines"] / r["drain3"]["lines_per_s"] for r in rows)
    mean = {
        "medic_ga": round(statistics.fmean(r["medic"]["ga"] for r in rows), 4),
        "drain3_ga": round(statistics.fmean(r["drain3"]["ga"] for r in rows), 4),
        # Aggregate throughput over all lines: total lines / total time, Medic over Drain3.
        "speedup": round(drain_time / medic_time, 2),
        "medic_lines_per_s": round(total_lines / medic_time),
        "drain3_lines_per_s": round(total_lines / drain_time),
    }
    for who in ("medic", "drain3"):
        for metric in ("fga", "pa", "fta"):
            mean[f"{who}_{metric}"] = round(statistics.fmean(r["metrics"][who][metric] for r in rows), 4)
    return {
        "systems": rows,
        "mean": mean,
        "labels": "corrected" if corrected else "original",
        "repeat": repeat,
        "python": sys.version.split()[0],
    }


def cross_validate(
    data: Path,
    *,
    grid: Sequence[int] = MIN_DISTINCT_GRID,
    shared_grid: Sequence[int] = MIN_SHARED_GRID,
    corrected: bool = True,
    with_drain3: bool = True,
) -> dict[str, Any]:
    """Leave-one-system-out: for each system, choose ``min_distinct`` and ``min_shared`` by mean GA on the others.

    The score of a system never depends on a choice made with its own labels; the reported mean
    is over held-out systems only. Drain3 (untuned, standard settings) is scored on the same labels.
    """
    systems = find_systems(data, corrected=corrected)
    if len(systems) < 2:
        raise FileNotFoundError(f"{data}: cross-validation needs at least two labelled systems")
    # Every system under every grid value once; the folds only choose among these.
    pairs = [(k, m) for k in grid for m in shared_grid]
    table = {
        (s.name, pair): _scores(s, medic_parse(s.lines, min_distinct=pair[0], min_shared=pair[1]))
        for s in systems
        for pair in pairs
    }
    folds: list[dict[str, Any]] = []
    for held in systems:
        training = [s for s in systems if s.name != held.name]
        # Ties go to the smaller threshold: equally good on the training systems, it also catches
        # variables that took few values in a short log.
        chosen = max(pairs, key=lambda p: (round(statistics.fmean(table[(s.name, p)].ga for s in training), 6), -p[0], -p[1]))
        held_scores = table[(held.name, chosen)]
        fold: dict[str, Any] = {
            "held_out": held.name,
            "min_distinct": chosen[0],
            "min_shared": chosen[1],
            "training_ga": round(statistics.fmean(table[(s.name, chosen)].ga for s in training), 4),
            "medic": _metrics(held_scores),
            "groups": {"truth": held_scores.truth_groups, "medic": held_scores.predicted_groups},
        }
        if with_drain3:
            fold["drain3"] = _metrics(_scores(held, drain3_parse(held.lines)))
        folds.append(fold)
    mean = {
        f"{who}_{metric}": round(statistics.fmean(f[who][metric] for f in folds), 4)
        for who in ("medic", *(("drain3",) if with_drain3 else ()))
        for metric in ("ga", "fga", "pa", "fta")
    }
    return {
        "held_out": folds,
        "mean": mean,
        "grid": {"min_distinct": list(grid), "min_shared": list(shared_grid)},
        "labels": "corrected" if corrected else "original",
        "in_sample": {f"{k},{m}": round(statistics.fmean(table[(s.name, (k, m))].ga for s in systems), 4) for k, m in pairs},
    }
