"""``medic bench grouping --data DIR --json``: log grouping accuracy and speed, Medic vs Drain3.

``--cv`` scores leave-one-system-out (the miner's parameter chosen on the other systems);
``--scale`` measures both parsers on 10k, 100k and 1M-line synthetic streams; ``--shift`` scores
them on the systems rewritten with timestamps and user names they were not written from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "grouping", help="grouping accuracy (GA, FGA, PA, FTA) and lines/s of Medic's log grouping vs Drain3 on Loghub-style data"
    )
    parser.add_argument("--data", type=Path, required=True, help="directory holding X_2k.log_structured.csv files")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per system; the fastest counts (default 3)")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also feed a 10 MB line and 100k ever-new lines to the miner and the whole pipeline; report speed and memory",
    )
    parser.add_argument(
        "--cv",
        action="store_true",
        help="leave-one-system-out: choose the miner's threshold on the other systems, report held-out GA/FGA/PA/FTA",
    )
    parser.add_argument(
        "--labels",
        choices=("original", "corrected"),
        default=None,
        help="ground truth: original files or the _corrected ones where present (default: corrected with --cv, else original)",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="lines/s and peak RSS of Medic and Drain3 on synthetic streams sampled from DIR's systems",
    )
    parser.add_argument(
        "--shift",
        action="store_true",
        help="also score on DIR's systems rewritten with timestamps in 13 standard formats and digitless user names "
        "inserted into their events (held-out material for the date and variable rules; labels preserved)",
    )
    parser.add_argument("--sizes", type=str, default="10000,100000,1000000", help="stream lengths for --scale (comma-separated)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medic_lab.grouping import cross_validate, run
    from medic_lab.grouping_checks import memory_check, pipeline_check, scale_check

    if not args.data.is_dir():
        print(json.dumps({"error": f"{args.data}: not a directory"}))
        return 2
    try:
        if args.cv:
            result = cross_validate(args.data, corrected=args.labels != "original")
        else:
            result = run(args.data, repeat=max(1, args.repeat), corrected=args.labels == "corrected")
    except FileNotFoundError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    if args.memory:
        result["memory"] = memory_check()
        result["pipeline"] = pipeline_check()
    if args.shift:
        from medic_lab.grouping_shift import shift_check

        result["shift"] = shift_check(args.data, corrected=args.labels != "original")
    if args.scale:
        result["scale"] = scale_check(str(args.data), sizes=[int(s) for s in args.sizes.split(",") if s.strip()])
    print(json.dumps(result, indent=None if args.json else 2))
    return 0
