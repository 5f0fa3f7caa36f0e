"""``medic bench diagnosis --corpus DIR --json``: localisation of every scenario by the offline playbook."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any


async def _run(corpus: Path, workdir: Path) -> dict[str, Any]:
    from medic_investigator.adapters.providers import PlaybookProvider
    from medic_lab.diagnosis_corpus import diagnose_scenario, find_scenarios

    provider = PlaybookProvider()
    rows = [await diagnose_scenario(s, workdir=workdir, provider=provider) for s in find_scenarios(corpus)]
    scenarios = [r.as_json() for r in rows]
    located = [r for r in rows if r.scenario.fault_file]
    unfixable = [r for r in rows if not r.scenario.fixable]
    return {
        "scenarios": scenarios,
        "totals": {
            "n": len(rows),
            "detected": sum(1 for r in rows if r.diagnosis is not None),
            "localized_file": sum(1 for r in located if r.localization.file),
            "localized_lines": sum(1 for r in located if r.localization.lines),
            "localized_file_rate": round(sum(1 for r in located if r.localization.file) / len(located), 3) if located else None,
            "localized_lines_rate": round(sum(1 for r in located if r.localization.lines) / len(located), 3) if located else None,
            "unfixable_sent_to_human": sum(1 for r in unfixable if r.diagnosis is not None and r.diagnosis.needs_human),
            "unfixable": len(unfixable),
            "errors": sum(1 for r in rows if r.error),
            "median_seconds": round(statistics.median(r.seconds for r in rows), 3) if rows else None,
        },
    }


def _handle(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"medic bench diagnosis: {corpus} is not a directory")
        return 2
    with tempfile.TemporaryDirectory(prefix="medic-bench-diagnosis-") as tmp:
        result = asyncio.run(_run(corpus, Path(args.workdir) if args.workdir else Path(tmp)))
    if args.json:
        print(json.dumps(result, indent=None if args.compact else 2))
    else:
        for row in result["scenarios"]:
            mark = "ok " if row["localized_lines"] else ("file" if row["localized_file"] else "MISS")
            print(f"{mark:4} {row['name']:40} {row['fix_strategy'] or '-':22} {row['predicted_file']}:{row['predicted_lines']}")
        print(json.dumps(result["totals"]))
    return 0


def register(kinds: Any) -> None:
    parser: argparse.ArgumentParser = kinds.add_parser("diagnosis", help="localisation of a scenario corpus by the playbook")
    parser.add_argument("--corpus", required=True, help="folder of scenarios (DESIGN.md §8)")
    parser.add_argument("--workdir", help="where scenario repositories are materialised (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--compact", action="store_true", help="JSON on one line")
    parser.set_defaults(handler=_handle)
