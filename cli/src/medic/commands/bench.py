"""``medic bench KIND``: benchmarks that print one JSON object (DESIGN.md §8)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any

from medic import bench


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("bench", help="run a benchmark (bus, grouping, anomaly, fix, api, ...)")
    kinds = parser.add_subparsers(dest="bench_kind", required=True, metavar="KIND")
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{bench.__name__}.{info.name}").register(kinds)
