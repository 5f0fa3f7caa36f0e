"""``medic bench faults --json``: issue 17's fault matrix against real service processes, one broker per case.

Per fault: survived, lost issues, duplicated side effects (commits, pull requests, deploys,
notifications, audit rows, outcome events), unaudited side effects and recovery seconds. Cases not
built yet are listed as ``not_implemented`` and never count as survived. Exit 0 only when every
listed case survived.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "faults", help="kill, restart, duplicate and outage faults across real services: what survived and what it cost"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output)")
    parser.add_argument("--only", type=str, default="", help="comma-separated case names to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--keep", type=Path, default=None, help="keep each case's scratch directory (logs, repos) under DIR")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medic_lab.faults import CASES, PENDING, report

    if args.list:
        listing = [{"name": c.name, "fault": c.fault, "expected": c.expected} for c in CASES]
        listing += [{"name": p[0], "fault": p[1], "expected": p[2], "status": "not_implemented"} for p in PENDING]
        print(json.dumps(listing, indent=None if args.json else 2))
        return 0
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)

    def progress(result: Any) -> None:
        state = "survived" if result.survived else result.status if result.status != "measured" else "FAILED"
        print(f"{result.name}: {state} ({result.wall_s:.0f}s)", file=sys.stderr, flush=True)

    try:
        result = report(only or None, keep=args.keep, progress=progress)
    except ValueError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    print(json.dumps(result, indent=None if args.json else 2))
    return 0 if result["summary"]["all_survived"] else 1
