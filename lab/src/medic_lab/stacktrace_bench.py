"""Throughput of medic_stacktrace (``medic bench stacktrace``): parsing, path resolution, source maps.

Inputs are the Sentry events given on the command line (any folder of event JSON files) plus
generated ones of fixed shape (a deep Python chain, a V8 trace, a repository file list, a large
source map), so runs are comparable across machines and corpora.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medic_stacktrace.parse import parse_trace
from medic_stacktrace.paths import RepoPathResolver
from medic_stacktrace.sentry import parse_sentry_event
from medic_stacktrace.sourcemap import SourceMap

__all__ = ["encode_vlq", "run_benchmark"]

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def encode_vlq(values: list[int]) -> str:
    """Base64 VLQ encoding (the inverse of :func:`medic_stacktrace.decode_vlq`), to build inputs."""
    out = []
    for value in values:
        number = (-value << 1) | 1 if value < 0 else value << 1
        while True:
            digit = number & 31
            number >>= 5
            out.append(_B64[digit | 32] if number else _B64[digit])
            if not number:
                break
    return "".join(out)


def _timed(work: Callable[[], int], *, min_seconds: float = 0.3) -> tuple[int, float]:
    """Run ``work`` (returns items done) until ``min_seconds`` pass; (items, seconds)."""
    items = 0
    start = time.perf_counter()
    while True:
        items += work()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return items, elapsed


def _python_trace(depth: int) -> str:
    frames = "".join(
        f'  File "/var/task/app/services/module_{i}.py", line {10 + i}, in handler_{i}\n    result = step_{i}(payload)\n'
        for i in range(depth)
    )
    first = f"Traceback (most recent call last):\n{frames}KeyError: 'practice'\n"
    second = f"Traceback (most recent call last):\n{frames}ValueError: no practice for id 42\n"
    return f"{first}\nThe above exception was the direct cause of the following exception:\n\n{second}"


def _v8_trace(depth: int) -> str:
    lines = [f"    at handler{i} (/var/task/.next/server/chunks/{i}.js:1:{100 + i})" for i in range(depth)]
    return "TypeError: Cannot read properties of null (reading 'name')\n" + "\n".join(lines) + "\n"


def _big_source_map(lines: int, segments: int) -> str:
    rows = []
    for line in range(lines):
        parts = []
        for seg in range(segments):
            # advance 7 generated columns, stay in source 0, move a line every segment, 2 columns
            parts.append(encode_vlq([7 if seg else 0, 0, 1 if (seg or line) else 0, 2, 1 if (seg or line) else 0]))
        rows.append(",".join(parts))
    names = [f"name{i}" for i in range(lines * segments + 1)]
    return json.dumps({"version": 3, "sources": ["src/app.ts"], "names": names, "mappings": ";".join(rows)})


def run_benchmark(*, events_dir: Path | None, depth: int = 40, files: int = 20_000, map_lines: int = 2_000) -> dict[str, Any]:
    """Measure every part and return one JSON-able object (per-second rates)."""
    result: dict[str, Any] = {}
    if events_dir is not None:
        events = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(events_dir.glob("*.json"))]
        frames_per_round = sum(len(e.frames) for ev in events for e in parse_sentry_event(ev).exceptions)

        def parse_all() -> int:
            return sum(1 for ev in events if parse_sentry_event(ev) is not None)

        done, seconds = _timed(parse_all)
        result["sentry_events"] = {
            "events": len(events),
            "events_per_s": round(done / seconds),
            "frames_per_s": round(done / max(len(events), 1) * frames_per_round / seconds),
        }
    python_text, v8_text = _python_trace(depth), _v8_trace(depth)
    done, seconds = _timed(lambda: len(parse_trace(python_text).exceptions) // 2)
    result["python_traceback"] = {"frames": 2 * depth, "traces_per_s": round(done / seconds)}
    done, seconds = _timed(lambda: len(parse_trace(v8_text).exceptions))
    result["v8_trace"] = {"frames": depth, "traces_per_s": round(done / seconds)}

    repo_files = [f"src/feature_{i % 400}/module_{i}/index.ts" for i in range(files)]
    started = time.perf_counter()
    resolver = RepoPathResolver(repo_files, {})
    index_seconds = time.perf_counter() - started
    queries = [f"/var/task/src/feature_{i % 400}/module_{i}/index.ts" for i in range(0, files, 7)]

    def resolve_all() -> int:
        fresh = RepoPathResolver.__new__(RepoPathResolver)
        fresh.__dict__.update(resolver.__dict__)
        fresh._cache = {}  # measure resolution, not the cache
        return sum(1 for q in queries if fresh.resolve(q) is not None)

    done, seconds = _timed(resolve_all)
    result["path_resolver"] = {"files": files, "index_ms": round(index_seconds * 1000, 1), "lookups_per_s": round(done / seconds)}

    document = _big_source_map(map_lines, 50)
    started = time.perf_counter()
    source_map = SourceMap.from_json(document)
    source_map.lookup(1, 1)  # decodes every mapping
    decode_seconds = time.perf_counter() - started
    points = [(1 + (i * 37) % map_lines, 1 + (i * 11) % 340) for i in range(5_000)]
    done, seconds = _timed(lambda: sum(1 for line, col in points if source_map.lookup(line, col) is not None))
    result["source_map"] = {
        "mappings_bytes": len(document),
        "segments": map_lines * 50,
        "decode_mb_per_s": round(len(document) / 1e6 / decode_seconds, 2),
        "lookups_per_s": round(done / seconds),
    }
    return result
