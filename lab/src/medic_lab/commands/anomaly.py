"""``medic bench anomaly --data DIR --json``: NAB scores of the watcher's detector beside two baselines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "anomaly", help="NAB score (standard, reward-low-FP, reward-low-FN) of the watcher's anomaly detector vs baselines"
    )
    parser.add_argument("--data", type=Path, required=True, help="NAB-style folder: data/, combined_windows.json, profiles.json")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--per-series", action="store_true", help="keep each detector's per-series counts in the output")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medic_lab.anomaly import run

    if not args.data.is_dir():
        print(json.dumps({"error": f"{args.data}: not a directory"}))
        return 2
    try:
        result = run(args.data)
    except FileNotFoundError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    if not args.per_series:
        for detector in result["detectors"].values():
            detector.pop("per_series", None)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0
