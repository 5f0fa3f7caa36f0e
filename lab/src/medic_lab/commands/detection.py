"""``medic bench detection --json``: false-positive rate, faults detected and time to detect on shop-like traffic."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "detection", help="false-positive rate, faults detected, median time to detect (synthetic shop traffic, injected faults)"
    )
    parser.add_argument("--hours", type=float, default=24.0, help="hours of traffic to simulate (default 24)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the traffic and the fault schedule")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medic_lab.detection import run

    print(json.dumps(run(hours=max(4.0, args.hours), seed=args.seed), indent=None if args.json else 2))
    return 0
