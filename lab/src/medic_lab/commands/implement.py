"""``medic bench implement --corpus DIR --json``: the implementer alone, with each scenario's true fault location."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("implement", help="fix every scenario given its fault location (fixer only)")
    parser.add_argument("--corpus", type=Path, required=True, help="folder of scenarios (DESIGN.md §8)")
    parser.add_argument("--tool-path", type=Path, action="append", default=None, help="directory put first on PATH (tsx, python)")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from medic_lab.fix_corpus import run_corpus

    with tempfile.TemporaryDirectory(prefix="medic-bench-implement-") as work:
        tools = tuple(args.tool_path) if args.tool_path else None
        report = asyncio.run(run_corpus(args.corpus, work=Path(work), tool_paths=tools))
    print(json.dumps(report, indent=None if args.json else 2))
    return 0
