"""``medic bench api``: control-api's issue list and event POST beside a bare FastAPI endpoint; projector events/s."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic_lab.api_bench import ADMIN_DSN, BenchOptions, main

    options = BenchOptions(
        database_url=args.database_url or ADMIN_DSN,
        issues=args.issues,
        duration_s=args.duration,
        concurrency=args.concurrency,
        events=args.events,
        kafka=args.kafka,
    )
    with tempfile.TemporaryDirectory(prefix="medic-bench-api-") as tmp:
        log_dir = Path(args.log_dir) if args.log_dir else Path(tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        return main(options, as_json=args.json, log_dir=log_dir)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "api", help="control-api throughput on PostgreSQL vs a bare FastAPI endpoint"
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL server (admin database URL); a temporary database is created and dropped"
    )
    parser.add_argument("--issues", type=int, default=100_000, help="issues loaded before measuring the list")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--events", type=int, default=12_000, help="events projected through the broker")
    parser.add_argument("--kafka", default=None, help="broker host:port (default: an embedded broker)")
    parser.add_argument("--log-dir", default=None, help="keep the server logs here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_run)
