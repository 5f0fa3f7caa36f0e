"""Resource checks of log grouping behind ``medic bench grouping --memory`` and ``--scale``.

``memory_check`` and ``pipeline_check`` feed ever-new lines through the miner alone and through
the watcher's whole pipeline; ``scale_check`` samples templates from labelled systems into a long
synthetic stream with fresh variable values and measures Medic and Drain3 on it in the same run.
"""

from __future__ import annotations

import random
import re
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from medic_watcher.domain.templates import TemplateMiner

from .loghub import LogSystem

__all__ = ["memory_check", "pipeline_check", "scale_check", "synthetic_stream"]


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
    from medic_watcher.domain.normalize import Normaliser
    from medic_watcher.domain.tracker import IssueState, apply, issue_id_for
    from medic_watcher.job.detect import group_events

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


# ---- scale ---------------------------------------------------------------------------------------

_SLOT = "\x00"


def _examples(systems: Sequence[LogSystem]) -> list[tuple[str, list[tuple[int, int]]]]:
    """Per ground-truth event: one real line and the spans of its variables (where its template aligns)."""
    found: dict[tuple[str, str], tuple[str, list[tuple[int, int]]]] = {}
    weights: dict[tuple[str, str], int] = {}
    for system in systems:
        for line, event, template in zip(system.lines, system.event_ids, system.templates, strict=True):
            key = (system.name, event)
            weights[key] = weights.get(key, 0) + 1
            if key in found or "<*>" not in template:
                continue
            parts = [re.escape(p) for p in template.split("<*>")]
            match = re.fullmatch("(.+?)".join(parts), line)
            if match is not None:
                found[key] = (line, [match.span(g) for g in range(1, len(parts))])
    out = []
    for key, example in found.items():
        out.extend([example] * max(1, weights[key] // 10))  # sampled roughly as often as the event occurs
    return out


def _fresh(value: str, rng: random.Random) -> str:
    # The same shape with new characters: digits always (ids, numbers, addresses); letters only in a
    # one-word value without digits (a user or host name), since "HTTP/1.1" or a class name keeps its words.
    word = value.isalpha()
    out = []
    for ch in value:
        if ch.isdigit():
            out.append(rng.choice("0123456789"))
        elif not word:
            out.append(ch)
        elif ch.islower():
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif ch.isupper():
            out.append(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        else:
            out.append(ch)
    return "".join(out)


def synthetic_stream(systems: Sequence[LogSystem], *, lines: int, seed: int = 0, chunk: int = 10_000) -> Iterator[list[str]]:
    """``lines`` lines in chunks: events sampled from ``systems``, their variables refilled with fresh values.

    Every digit of a variable is new; a variable that is one word of letters (a user name) gets
    new letters too; the other letters stay (units, protocol names, class names).
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible benchmark stream, not a secret
    examples = _examples(systems)
    made = 0
    while made < lines:
        batch = []
        for _ in range(min(chunk, lines - made)):
            line, spans = rng.choice(examples)
            pieces, last = [], 0
            for start, end in spans:
                pieces.append(line[last:start])
                pieces.append(_fresh(line[start:end], rng))
                last = end
            pieces.append(line[last:])
            batch.append("".join(pieces))
        made += len(batch)
        yield batch


def _medic_parser() -> Callable[[str], object]:
    return TemplateMiner().cluster_id


def _drain3_parser() -> Callable[[str], object]:
    from .grouping import _drain3_miner

    return _drain3_miner().add_log_message  # type: ignore[no-any-return]


def scale_point(parser: str, *, data: str, lines: int, seed: int = 0) -> dict[str, Any]:
    """One parser over one stream length in this process: lines/s (parsing only) and peak RSS.

    Run each point in a fresh process (``scale_check`` does) so peak RSS belongs to it alone.
    """
    import gc
    import resource
    from pathlib import Path

    from .loghub import find_systems

    systems = find_systems(Path(data), corrected=True)
    stream = synthetic_stream(systems, lines=lines, seed=seed)
    first = next(stream)
    del systems
    gc.collect()
    add = _medic_parser() if parser == "medic" else _drain3_parser()
    start_mb = _rss_mb()
    parsing = parsing_cpu = 0.0
    for batch in _chain(first, stream):
        started, started_cpu = time.perf_counter(), time.process_time()
        for line in batch:
            add(line)
        parsing += time.perf_counter() - started
        parsing_cpu += time.process_time() - started_cpu
    end_mb = _rss_mb()
    return {
        "lines": lines,
        "lines_per_s": round(lines / parsing) if parsing > 0 else None,
        # CPU time of this process: the rate on an idle core (wall rates swing on a shared machine).
        "lines_per_cpu_s": round(lines / parsing_cpu) if parsing_cpu > 0 else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # What the parser holds after the stream beyond what the process held before it.
        "rss_growth_mb": round(end_mb - start_mb, 1),
        "rss_end_mb": round(end_mb, 1),
    }


def _chain(first: list[str], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rest


def _rss_mb() -> float:
    """The process's current resident set size (Linux /proc; 0 elsewhere)."""
    import os

    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def scale_check(data: str, *, sizes: Sequence[int] = (10_000, 100_000, 1_000_000), timeout: float = 3_600) -> dict[str, Any]:
    """Medic and Drain3 on synthetic streams of each size, each point in its own process, in the same run."""
    import json
    import subprocess
    import sys

    points: dict[str, list[dict[str, Any]]] = {"medic": [], "drain3": []}
    for size in sizes:
        for parser in ("medic", "drain3"):
            code = (
                "import json, sys; from medic_lab.grouping_checks import scale_point; "
                f"print(json.dumps(scale_point({parser!r}, data={data!r}, lines={int(size)})))"
            )
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=timeout)
            points[parser].append(json.loads(out.stdout.strip().splitlines()[-1]))
    pairs = list(zip(points["medic"], points["drain3"], strict=True))
    speedups = [round(m["lines_per_s"] / d["lines_per_s"], 2) for m, d in pairs]
    cpu_speedups = [round(m["lines_per_cpu_s"] / d["lines_per_cpu_s"], 2) for m, d in pairs]
    return {"sizes": list(sizes), **points, "speedup": speedups, "cpu_speedup": cpu_speedups}
