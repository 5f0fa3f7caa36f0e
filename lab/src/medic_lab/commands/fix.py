"""``medic bench fix --corpus DIR --json``: detection → diagnosis → fix on every scenario, offline providers."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from medic_lab.fixbench import run_fix_benchmark

    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"medic bench fix: {corpus} is not a directory")
        return 2
    only = set(args.only) if args.only else None
    with tempfile.TemporaryDirectory(prefix="medic-bench-fix-") as tmp:
        result = asyncio.run(run_fix_benchmark(corpus, work=Path(args.work_dir or tmp), only=only))
    if args.json:
        print(json.dumps(result))
    else:
        for s in result["scenarios"]:
            flags = "".join("✓" if s[k] else "·" for k in ("detected", "localized_file", "localized_lines", "fixed"))
            verdict = "WRONG" if s["wrong_commit"] else ("released" if s["released"] else ("abstained" if s["abstained"] else ""))
            split = s["split"] or "-"
            print(
                f"{split:<4} {s['name']:<32} {flags} {s['outcome']:<15} {s['strategy']:<22} {verdict:<9} "
                f"{s['seconds']:>6.1f}s {s['error'] or ''}"
            )
        # the held-out split first: it is the number that says whether the rules generalise
        for split, block in sorted(result.get("splits", {}).items(), key=lambda kv: kv[0] != "test"):
            print(f"{split}: {json.dumps(block)}")
        print(json.dumps(result["totals"], indent=2))
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("fix", help="detection → diagnosis → fix on a scenario corpus")
    parser.add_argument("--corpus", required=True, help="scenario folder (DESIGN.md §8), or one with dev/ and test/ splits")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", nargs="*", help="only these scenario names")
    parser.add_argument("--work-dir", default=None, help="keep the materialised repositories here (default: a temp dir)")
    parser.set_defaults(handler=_run)
