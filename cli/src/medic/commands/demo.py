"""``medic demo``: the whole detect → diagnose → fix → deploy → verify loop on the bundled example."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic.demo import DemoOptions, run

    options = DemoOptions(
        scenario=args.scenario,
        work_dir=Path(args.work_dir),
        keep_running=args.keep_running,
        fast=args.fast,
        timeout_s=args.timeout,
        well_known_ports=not args.any_ports,
    )
    return run(options)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("demo", help="run the self-healing loop on the bundled example shop")
    parser.add_argument(
        "--scenario",
        choices=["fix", "rollback", "approval"],
        default="fix",
        help="fix: autonomous loop (default); rollback: a fix that makes things worse is rolled back; "
        "approval: level 1, the fix and each deploy wait for approval given with `medic approve`",
    )
    parser.add_argument("--keep-running", action="store_true", help="keep Medic and the shop running afterwards (dashboard)")
    parser.add_argument("--fast", action="store_true", help="shorter watch windows")
    parser.add_argument("--work-dir", default=".demo", help="where the shop, its forge and Medic's stores live")
    parser.add_argument("--timeout", type=float, default=480.0, help="give up after this many seconds")
    parser.add_argument(
        "--any-ports", action="store_true", help="any free ports instead of 9092 and 8080–8084 (runs beside another stack)"
    )
    parser.set_defaults(handler=_run)
