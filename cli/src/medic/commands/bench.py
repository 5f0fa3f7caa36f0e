"""``medic bench KIND``: benchmarks that print one JSON object (DESIGN.md §8).

The benchmarks live in the lab (``medic_lab``), never in a product wheel: each registers itself
under the ``medic.bench`` entry points, so ``medic bench`` lists whatever is installed.
"""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINTS = "medic.bench"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("bench", help="run a benchmark (bus, grouping, anomaly, fix, api, ...)")
    kinds = parser.add_subparsers(dest="bench_kind", required=True, metavar="KIND")
    found = sorted(entry_points(group=ENTRY_POINTS), key=lambda ep: ep.name)
    for ep in found:
        ep.load().register(kinds)
    if not found:
        parser.epilog = "no benchmarks installed: they ship in the medic-lab package (uv sync --all-packages)"
