"""``medic bench grouping --data DIR --json``: log grouping accuracy and speed, Medic vs Drain3."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "grouping", help="grouping accuracy (GA) and lines/s of Medic's log grouping vs Drain3 on Loghub-style data"
    )
    parser.add_argument("--data", type=Path, required=True, help="directory holding X_2k.log_structured.csv files")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per system; the fastest counts (default 3)")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also feed a 10 MB line and 100k ever-new lines to the miner and the whole pipeline; report speed and memory",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medic_lab.grouping import run
    from medic_lab.grouping_checks import memory_check, pipeline_check

    if not args.data.is_dir():
        print(json.dumps({"error": f"{args.data}: not a directory"}))
        return 2
    try:
        result = run(args.data, repeat=max(1, args.repeat))
    except FileNotFoundError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    if args.memory:
        result["memory"] = memory_check()
        result["pipeline"] = pipeline_check()
    print(json.dumps(result, indent=None if args.json else 2))
    return 0
