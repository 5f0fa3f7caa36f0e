"""The ``medic`` operator CLI.

Each command lives in its own module under :mod:`medic.commands` and exposes
``register(subparsers)``; each benchmark lives under :mod:`medic.bench` the same way. Modules are
discovered, so adding a command never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from . import commands

__all__ = ["build_parser", "main"]

# httpx imports its own command-line client (click and rich, most of httpx's import time) whenever
# click is installed; Medic never runs it. A None entry makes that optional import fail fast, so
# `medic pause` costs the interpreter, httpx's core and the small control-api client only.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every discovered command registered."""
    parser = argparse.ArgumentParser(
        prog="medic", description="Operate Medic: dev stack, demo, control, audit, replay, benchmarks."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "Unable connect" while a broker starts is expected
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
