"""The benchmark's own pieces: the VLQ encoder it builds inputs with, and the report's shape."""

from __future__ import annotations

import random
from pathlib import Path

from medic_lab.stacktrace_bench import encode_vlq, run_benchmark
from medic_stacktrace import decode_vlq


def test_vlq_encoding_round_trips_through_the_decoder() -> None:
    rng = random.Random(7)
    for _ in range(500):
        values = [rng.randint(-(2**31), 2**31) for _ in range(rng.randint(1, 5))]
        assert decode_vlq(encode_vlq(values)) == values


def test_benchmark_reports_every_part_with_positive_rates(sentry_events_dir: Path) -> None:
    report = run_benchmark(events_dir=sentry_events_dir, depth=5, files=200, map_lines=20)
    assert set(report) == {"sentry_events", "python_traceback", "v8_trace", "path_resolver", "source_map"}
    assert report["sentry_events"]["events"] >= 30
    for part in report.values():
        assert all(value > 0 for key, value in part.items() if key.endswith("_per_s"))
