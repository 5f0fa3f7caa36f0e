"""``medic bench stacktrace``: parsing, path-resolution and source-map throughput (medic_stacktrace)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic_lab.stacktrace_bench import run_benchmark

    events = args.events
    if events is not None and not events.is_dir():
        print(f"medic bench stacktrace: --events {events} is not a directory")
        return 2
    result = run_benchmark(events_dir=events, depth=args.depth, files=args.files, map_lines=args.map_lines)
    if args.json:
        print(json.dumps(result))
    else:
        for name, values in result.items():
            print(f"{name:18} " + "  ".join(f"{k}={v}" for k, v in values.items()))
    return 0


def register(kinds: Any) -> None:
    parser: argparse.ArgumentParser = kinds.add_parser("stacktrace", help="stack trace parsing and mapping throughput")
    parser.add_argument("--events", type=Path, default=None, help="folder of Sentry event JSON files to parse")
    parser.add_argument("--depth", type=int, default=40, help="frames per generated trace")
    parser.add_argument("--files", type=int, default=20_000, help="files in the generated repository list")
    parser.add_argument("--map-lines", type=int, default=2_000, help="generated lines in the source map (50 segments each)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_run)
