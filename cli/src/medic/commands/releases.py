"""``medic releases``: the releaser's rollout runs (stage, phase, status, reason) from its store."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic_releaser.status import list_runs

    url = args.store or f"sqlite+aiosqlite:///{(Path(args.data_dir) / 'releaser.db').resolve()}"
    runs = asyncio.run(list_runs(store_url=url, active_only=args.active))
    if args.json:
        print(json.dumps({"runs": runs}, indent=2))
        return 0
    if not runs:
        print("no release runs")
        return 0
    for run in runs:
        print(
            f"{run['run_id']}  {run['severity']}  {run['stage']:<10} {run['phase']:<8} {run['status']:<17} "
            f"{(run['reason'] or '')[:80]}"
        )
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("releases", help="list the releaser's rollout runs")
    parser.add_argument("--store", help="releaser store URL (default: sqlite file in --data-dir)")
    parser.add_argument("--data-dir", default=".medic", help="the releaser's MEDIC_DATA_DIR (default .medic)")
    parser.add_argument("--active", action="store_true", help="only runs that are not finished")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_run)
