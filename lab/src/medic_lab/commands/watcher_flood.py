"""``medic bench watcher-flood --json``: a running watcher under a log and push flood: healthz latency, RSS, catch-up."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic_lab.watcher_flood import FloodOptions, run

    options = FloodOptions(
        rate=args.rate,
        push_rate=args.push_rate,
        push_batch=args.push_batch,
        duration_s=args.duration,
        probe_timeout_s=args.probe_timeout,
        catch_up_timeout_s=args.catch_up_timeout,
        kafka=args.kafka,
        keep_dir=args.keep_dir,
    )
    result = run(options)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0 if result["caught_up"] else 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "watcher-flood",
        help="flood a running watcher's log file and ingest endpoint; /healthz p50/p99/max, peak RSS, catch-up seconds",
    )
    parser.add_argument("--rate", type=int, default=10_000, help="error lines per second appended to the log file")
    parser.add_argument("--push-rate", type=int, default=1_000, help="events per second posted to the Sentry ingest endpoint")
    parser.add_argument("--push-batch", type=int, default=50, help="events per envelope")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of flood")
    parser.add_argument("--probe-timeout", type=float, default=3.0, help="a /healthz probe slower than this counts as a timeout")
    parser.add_argument("--catch-up-timeout", type=float, default=600.0, help="give up waiting for catch-up after this long")
    parser.add_argument("--kafka", default=None, help="broker host:port (default: an embedded broker)")
    parser.add_argument("--keep-dir", type=Path, default=None, help="run in (and keep) this directory: target, log, store")
    parser.add_argument("--json", action="store_true", help="print one JSON object on one line")
    parser.set_defaults(handler=_run)
