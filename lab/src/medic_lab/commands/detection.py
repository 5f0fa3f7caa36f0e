"""``medic bench detection --json``: false-positive rate, faults detected and time to detect on the running demo shop."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "detection",
        help="the demo shop under normal traffic with a bad deploy, a latency regression and a traffic spike, "
        "watched by medic-watcher: false-positive rate, faults detected, median time to detect",
    )
    parser.add_argument("--requests", type=int, default=None, help="requests the users send in all (default 12000; --fast 7000)")
    parser.add_argument("--rate", type=float, default=None, help="requests per second of normal traffic (default 25)")
    parser.add_argument("--bucket-s", type=int, default=None, help="seconds standing for one production minute (default 2)")
    parser.add_argument("--poll-s", type=float, default=None, help="the watcher's polling interval in seconds (default 10)")
    parser.add_argument("--fault-s", type=float, default=None, help="how long each fault lasts (default 20)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the traffic and the fault schedule")
    parser.add_argument("--fast", action="store_true", help="the short run the test uses (1 s buckets, 4 s polls)")
    parser.add_argument("--kafka", default=None, help="bootstrap servers of a broker (default: an embedded one)")
    parser.add_argument("--keep-dir", type=Path, default=None, help="keep the shop, logs and watcher store here")
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medic_lab.detection import DetectionOptions, run

    given = {
        "requests": args.requests,
        "rate": args.rate,
        "bucket_s": args.bucket_s,
        "poll_s": args.poll_s,
        "fault_s": args.fault_s,
    }
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    overrides |= {"seed": args.seed, "kafka": args.kafka, "keep_dir": args.keep_dir}
    options = DetectionOptions.fast(**overrides) if args.fast else DetectionOptions(**overrides)
    print(json.dumps(run(options), indent=None if args.json else 2))
    return 0
