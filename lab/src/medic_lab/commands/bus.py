"""``medic bench bus``: hop latency and throughput through the runtime beside raw aiokafka."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic_lab.bus_bench import run_bus_benchmark

    result = asyncio.run(
        run_bus_benchmark(
            bootstrap=args.bootstrap, latency_samples=args.samples, events=args.events, fetch_wait_ms=args.fetch_wait_ms
        )
    )
    if args.json:
        print(json.dumps(result))
    else:
        for path in ("runtime", "raw"):
            r = result[path]
            print(f"{path:<8} p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  {r['events_per_s']:.0f} events/s")
        print(f"targets: {result['targets']}")
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "bus", help="publish→consume latency and throughput: runtime vs raw aiokafka"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--bootstrap", default=None, help="broker to use (default: start the embedded one)")
    parser.add_argument("--samples", type=int, default=500, help="ping-pong latency samples per path")
    parser.add_argument("--events", type=int, default=20_000, help="backlog size for the throughput run")
    parser.add_argument("--fetch-wait-ms", type=int, default=5, help="fetch_max_wait_ms of both consumers (default 5)")
    parser.set_defaults(handler=_run)
