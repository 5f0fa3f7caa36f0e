"""The grouping benchmark behind ``medic bench grouping`` (DESIGN.md §8).

For every Loghub-style system in a directory (``X_2k.log_structured.csv`` with ``Content`` and
``EventId`` columns), group the ``Content`` lines with Medic's :class:`TemplateMiner` and with
Drain3 (its example configuration's standard masking, sim_th 0.4, depth 4), in the same run, and
score both with grouping accuracy exactly as logparser's ``evaluator.get_accuracy`` computes it.
"""

from __future__ import annotations

import csv
import gc
import logging
import statistics
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .domain.templates import TemplateMiner

__all__ = [
    "LogSystem",
    "drain3_grouping",
    "find_systems",
    "grouping_accuracy",
    "medic_grouping",
    "memory_check",
    "pipeline_check",
    "run",
]

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


@dataclass(frozen=True, slots=True)
class LogSystem:
    """One labelled system: its log contents and ground-truth event ids."""

    name: str
    lines: tuple[str, ...]
    event_ids: tuple[str, ...]


def find_systems(data: Path) -> list[LogSystem]:
    """Every ``X_2k.log_structured.csv`` (original labels, not ``_corrected``) under ``data``, by name."""
    files = sorted(p for p in data.rglob("*_structured.csv") if not p.name.endswith("_corrected.csv"))
    systems = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or "Content" not in rows[0] or "EventId" not in rows[0]:
            continue
        name = path.name.split("_")[0]
        systems.append(
            LogSystem(
                name=name,
                lines=tuple(r["Content"] or "" for r in rows),
                event_ids=tuple((r["EventId"] or "").strip() for r in rows),
            )
        )
    return systems


def grouping_accuracy(truth: Sequence[str], parsed: Sequence[object]) -> float:
    """logparser's GA: lines of parsed groups that hold exactly one whole ground-truth group.

    Lines whose ground-truth id is empty are dropped first, as logparser's evaluator does.
    """
    kept = [i for i, t in enumerate(truth) if t]
    if not kept:
        return 0.0
    truth_sizes = Counter(truth[i] for i in kept)
    groups: dict[object, list[int]] = defaultdict(list)
    for i in kept:
        groups[parsed[i]].append(i)
    correct = 0
    for members in groups.values():
        events = {truth[i] for i in members}
        if len(events) == 1 and truth_sizes[next(iter(events))] == len(members):
            correct += len(members)
    return correct / len(kept)


def medic_grouping(lines: Sequence[str]) -> list[int]:
    """Medic's cluster per line (final clusters: ids handed out earlier resolve to their merges)."""
    miner = TemplateMiner()
    ids = [miner.cluster_id(line) for line in lines]
    return [miner.resolve(i) for i in ids]


def drain3_grouping(lines: Sequence[str]) -> list[int]:
    """Drain3's cluster per line with its standard masking."""
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(pattern, mask) for pattern, mask in DRAIN3_MASKING]
    config.mask_prefix, config.mask_suffix = "<:", ":>"
    config.drain_sim_th = 0.4
    config.drain_depth = 4
    config.drain_max_children = 100
    config.drain_max_clusters = None
    config.drain_extra_delimiters = ["_"]
    config.profiling_enabled = False
    miner = Drain3Miner(config=config)
    return [int(miner.add_log_message(line)["cluster_id"]) for line in lines]


def _measure(fn: Callable[[Sequence[str]], list[int]], lines: Sequence[str], repeat: int) -> tuple[list[int], float]:
    best = float("inf")
    result: list[int] = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn(lines)
        best = min(best, time.perf_counter() - started)
    return result, len(lines) / best if best > 0 else float("inf")


def run(data: Path, *, repeat: int = 3) -> dict[str, Any]:
    """Benchmark every system in ``data``: GA and lines/s for Medic and Drain3 (DESIGN.md §8 shape)."""
    logging.getLogger("drain3").setLevel(logging.WARNING)
    systems = find_systems(data)
    if not systems:
        raise FileNotFoundError(f"{data}: no *_structured.csv files with Content and EventId columns")
    rows: list[dict[str, Any]] = []
    for system in systems:
        medic_ids, medic_speed = _measure(medic_grouping, system.lines, repeat)
        drain_ids, drain_speed = _measure(drain3_grouping, system.lines, repeat)
        rows.append(
            {
                "name": system.name,
                "lines": len(system.lines),
                "medic": {"ga": round(grouping_accuracy(system.event_ids, medic_ids), 4), "lines_per_s": round(medic_speed)},
                "drain3": {"ga": round(grouping_accuracy(system.event_ids, drain_ids), 4), "lines_per_s": round(drain_speed)},
                "groups": {
                    "truth": len({e for e in system.event_ids if e}),
                    "medic": len(set(medic_ids)),
                    "drain3": len(set(drain_ids)),
                },
            }
        )
    total_lines = sum(r["lines"] for r in rows)
    medic_time = sum(r["lines"] / r["medic"]["lines_per_s"] for r in rows)
    drain_time = sum(r["lines"] / r["drain3"]["lines_per_s"] for r in rows)
    return {
        "systems": rows,
        "mean": {
            "medic_ga": round(statistics.fmean(r["medic"]["ga"] for r in rows), 4),
            "drain3_ga": round(statistics.fmean(r["drain3"]["ga"] for r in rows), 4),
            # Aggregate throughput over all lines: total lines / total time, Medic over Drain3.
            "speedup": round(drain_time / medic_time, 2),
            "medic_lines_per_s": round(total_lines / medic_time),
            "drain3_lines_per_s": round(total_lines / drain_time),
        },
        "repeat": repeat,
        "python": sys.version.split()[0],
    }


def memory_check(*, lines: int = 100_000, huge_line_bytes: int = 10 * 1024 * 1024) -> dict[str, Any]:
    """Feed a 10 MB line and ``lines`` ever-new lines through the miner; report speed and memory held.

    Speed is timed without tracing; memory is traced in a second pass after the first half and at
    the end: a bounded miner holds the same after 50k lines as after 100k lines of new values.
    """

    def line(i: int) -> str:
        return f"request {i} from 10.0.{i % 256}.{i // 256 % 256} took {i % 977} ms user=u{i} path=/api/items/{i}"

    huge = "payload " + "x" * huge_line_bytes
    miner = TemplateMiner()
    started = time.perf_counter()
    huge_template = miner.add(huge).template
    for i in range(lines):
        miner.cluster_id(line(i))
    elapsed = time.perf_counter() - started

    miner = TemplateMiner()
    tracemalloc.start()
    miner.add(huge)
    half_mem = 0
    for i in range(lines):
        miner.cluster_id(line(i))
        if i == lines // 2:
            half_mem = tracemalloc.get_traced_memory()[0]
    end_mem, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "lines": lines,
        "lines_per_s": round(lines / elapsed),
        "huge_line_bytes": len(huge),
        "huge_line_template_chars": len(huge_template),
        "templates": len(miner),
        "memory_half_bytes": half_mem,
        "memory_end_bytes": end_mem,
        "memory_growth_bytes": end_mem - half_mem,
        "memory_peak_bytes": peak,
    }


def pipeline_check(*, lines: int = 100_000, batch: int = 1_000, users: int | None = None) -> dict[str, Any]:
    """JSON log lines (10% failing requests, all with new ids) through normalisation, grouping and tracking.

    Reports lines/s and the memory held after half and after all of the lines (tracemalloc,
    second pass), which stays flat: windows are bucketed, users capped, templates bounded.
    ``users`` limits the distinct users (default: a new one per line, reaching the cap).
    """
    import json
    from datetime import UTC, datetime, timedelta

    from medic_contracts import MedicConfig

    from .detect import group_events
    from .domain.normalize import Normaliser
    from .domain.tracker import IssueState, apply, issue_id_for

    start = datetime(2026, 1, 1, tzinfo=UTC)

    def record(i: int) -> str:
        failing = i % 10 == 0
        return json.dumps(
            {
                "ts": (start + timedelta(milliseconds=i * 100)).isoformat(),
                "level": "error" if failing else "info",
                "msg": f"order {i} failed for user u{i} after {i % 300} ms" if failing else f"GET /api/orders/{i} 200",
                "route": "/api/orders/:id",
                "status": 500 if failing else 200,
                "duration_ms": i % 300,
                "user_id": f"u{i if users is None else i % users}",
            }
        )

    def run(measure_memory: bool) -> tuple[float, float, int, int, int]:
        normaliser, miner, config = Normaliser(), TemplateMiner(), MedicConfig()
        states: dict[str, IssueState] = {}
        half = 0
        building = building_cpu = 0.0
        began, began_cpu = time.perf_counter(), time.process_time()
        for first in range(0, lines, batch):
            built, built_cpu = time.perf_counter(), time.process_time()
            chunk = [record(i) for i in range(first, min(lines, first + batch))]
            building += time.perf_counter() - built  # making the input is not the watcher's work
            building_cpu += time.process_time() - built_cpu
            events = [normaliser.log_line(text, service="web", now=start) for text in chunk]
            problems = [e for e in events if e.is_problem]
            for (service, fingerprint), occurrences in group_events(problems, miner=miner).items():
                issue_id = issue_id_for("bench", service, fingerprint)
                states[issue_id], _ = apply(states.get(issue_id), occurrences, target="bench", config=config)
            if measure_memory and first + batch >= lines // 2 and not half:
                half = tracemalloc.get_traced_memory()[0]
        end = tracemalloc.get_traced_memory()[0] if measure_memory else 0
        wall = time.perf_counter() - began - building
        cpu = time.process_time() - began_cpu - building_cpu
        return wall, cpu, half, end, len(states)

    elapsed, cpu, _, _, issues = run(False)
    tracemalloc.start()
    _, _, half_mem, end_mem, _ = run(True)
    tracemalloc.stop()
    return {
        "lines": lines,
        "lines_per_s": round(lines / elapsed),
        # CPU time of this process: what the rate would be on an idle core (the wall rate suffers on a busy machine).
        "lines_per_cpu_s": round(lines / cpu) if cpu > 0 else None,
        "issues": issues,
        "memory_half_bytes": half_mem,
        "memory_end_bytes": end_mem,
        "memory_growth_bytes": end_mem - half_mem,
    }
