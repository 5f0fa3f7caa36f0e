"""Run a Python scenario's trigger requests in-process and print each real exception as JSON.

Runs inside a materialised scenario checkout (the current directory): imports the ASGI app named
by ``--app`` (``module:attribute``), sends every request through Starlette's TestClient with
server exceptions re-raised, and writes one JSON object per captured exception chain to stdout.
A request's ``json`` is sent serialised; ``body`` is sent as the raw text it is (empty, or not JSON).
With ``--function`` (``module:attribute``) instead, it calls that plain function (a worker job, a
library function) once per entry of ``--requests`` (``{"args": [...], "kwargs": {...}}``).
It is a subprocess of ``generate_events.py`` so each scenario's ``app`` package is imported fresh.
"""

from __future__ import annotations

import argparse
import importlib
import json
import linecache
import sys
import types
import warnings
from pathlib import Path
from typing import Any

CONTEXT_LINES = 5
VAR_LIMIT = 200


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not hide the real error
        text = f"<unrepresentable {type(value).__name__}: {exc}>"
    return text if len(text) <= VAR_LIMIT else text[: VAR_LIMIT - 3] + "..."


def _frame(tb: types.TracebackType) -> dict[str, Any]:
    frame = tb.tb_frame
    filename = frame.f_code.co_filename
    lineno = tb.tb_lineno
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    start = max(lineno - 1 - CONTEXT_LINES, 0)
    return {
        "path": str(Path(filename).resolve()) if Path(filename).exists() else filename,
        "module": frame.f_globals.get("__name__"),
        "function": frame.f_code.co_name,
        "lineno": lineno,
        "context_line": lines[lineno - 1].rstrip("\n") if 0 < lineno <= len(lines) else None,
        "pre_context": [line.rstrip("\n") for line in lines[start : lineno - 1]],
        "post_context": [line.rstrip("\n") for line in lines[lineno : lineno + CONTEXT_LINES]],
        "vars": {name: _safe_repr(value) for name, value in frame.f_locals.items() if not name.startswith("__")},
    }


def _exception(exc: BaseException) -> dict[str, Any]:
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(_frame(tb))
        tb = tb.tb_next
    return {"type": type(exc).__name__, "module": type(exc).__module__, "value": str(exc), "frames": frames}


def _chain(exc: BaseException) -> list[dict[str, Any]]:
    """The exception and its causes, oldest first (Sentry's order for exception.values)."""
    chain: list[dict[str, Any]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(_exception(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return list(reversed(chain))


def _call(target: str, calls: list[dict[str, Any]]) -> int:
    module_name, _, attribute = target.partition(":")
    function = getattr(importlib.import_module(module_name), attribute)
    for spec in calls:
        record: dict[str, Any] = {"request": spec}
        try:
            value = function(*spec.get("args", []), **spec.get("kwargs", {}))
        except Exception as exc:
            record["exceptions"] = _chain(exc)
        else:
            record["status"] = _safe_repr(value)
        print(json.dumps(record))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", help="module:attribute of the ASGI app")
    parser.add_argument("--function", help="module:attribute of a plain function to call (no HTTP)")
    parser.add_argument("--requests", required=True, help="JSON list of {method, path, json | body, headers}")
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))
    warnings.simplefilter("ignore")
    if args.function:
        return _call(args.function, json.loads(args.requests))
    from starlette.testclient import TestClient

    module_name, _, attribute = args.app.partition(":")
    app = getattr(importlib.import_module(module_name), attribute)
    client = TestClient(app, raise_server_exceptions=True)
    for spec in json.loads(args.requests):
        record: dict[str, Any] = {"request": spec}
        try:
            response = client.request(
                spec["method"], spec["path"], json=spec.get("json"), content=spec.get("body"), headers=spec.get("headers")
            )
        except Exception as exc:
            record["exceptions"] = _chain(exc)
        else:
            record["status"] = response.status_code
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
