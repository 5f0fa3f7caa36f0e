"""Generate each scenario's ``events.jsonl`` by running its failing code for real.

For every scenario (or the names given), the scenario is materialised as a git repository with its
bug committed (``scenario_repo.materialise``), the trigger requests from ``triggers.toml`` are sent
to the real application (Python: Starlette TestClient in a subprocess; TypeScript: the route
handler under ``tsx``), and every real exception is converted into a Sentry-protocol event:
``exception.values[].stacktrace.frames[]`` (innermost last) with deployed paths, line/column,
function, ``in_app`` and source context, plus ``request``, ``user``, ``release``, ``tags``,
``timestamp`` and ``platform``. A trigger that does not fail is an error: events are never invented.

Usage: ``uv run python examples/scenarios/_tools/generate_events.py [scenario ...]``
"""

from __future__ import annotations

import argparse
import email
import email.utils
import json
import re
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scenario_repo import CORPUS, NODE_BIN, load_scenario, materialise, scenario_dir, tool_env

TOOLS = Path(__file__).resolve().parent
CONTEXT_LINES = 5
V8_FRAME = re.compile(r"^\s*at (?:(?P<function>.+?) \((?P<location>.+)\)|(?P<bare>.+))$")
V8_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+)$")
PY_APP_ENTRY = ("fastapi.applications", "starlette.applications")


def _context(lines: list[str], lineno: int) -> dict[str, Any]:
    start = max(lineno - 1 - CONTEXT_LINES, 0)
    return {
        "context_line": lines[lineno - 1] if 0 < lineno <= len(lines) else None,
        "pre_context": lines[start : lineno - 1],
        "post_context": lines[lineno : lineno + CONTEXT_LINES],
    }


def python_frames(raw: list[dict[str, Any]], *, checkout: Path, prefix: str, with_vars: bool = True) -> list[dict[str, Any]]:
    """Sentry frames from captured Python frames: repo files in-app under ``prefix``, libraries not; in-app frames
    carry their local variables unless ``with_vars`` is false (the SDK's ``include_local_variables=False``)."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    frames: list[dict[str, Any]] = []
    for item in raw:
        path = Path(item["path"])
        frame: dict[str, Any] = {"function": item["function"], "module": item["module"], "lineno": item["lineno"]}
        if path.is_relative_to(checkout):
            rel = path.relative_to(checkout).as_posix()
            frame |= {"filename": rel, "abs_path": prefix + rel, "in_app": True}
            if with_vars:
                frame["vars"] = item["vars"]
        elif path.is_relative_to(site):
            rel = path.relative_to(site).as_posix()
            frame |= {"filename": rel, "abs_path": f"/usr/local/lib/python3.11/site-packages/{rel}", "in_app": False}
        elif path.is_relative_to(stdlib):
            rel = path.relative_to(stdlib).as_posix()
            frame |= {"filename": rel, "abs_path": f"/usr/local/lib/python3.11/{rel}", "in_app": False}
        else:
            continue  # the trigger harness itself: not part of the deployed application
        frame |= {"context_line": item["context_line"], "pre_context": item["pre_context"], "post_context": item["post_context"]}
        frames.append(frame)
    # the test client's own frames stand where the ASGI server would: start at the application entry
    entry = next((i for i, f in enumerate(frames) if f["module"] in PY_APP_ENTRY), None)
    if entry is None:
        entry = next((i for i, f in enumerate(frames) if f["in_app"]), 0)
    return frames[entry:]


def v8_frames(stack: str, *, checkout: Path, prefix: str) -> list[dict[str, Any]]:
    """Sentry frames (innermost last) from a V8 stack string whose repo paths are source-mapped."""
    frames: list[dict[str, Any]] = []
    for line in stack.splitlines()[1:]:
        match = V8_FRAME.match(line)
        if not match:
            continue
        function = (match["function"] or "<anonymous>").removeprefix("async ")
        location = V8_LOCATION.match(match["location"] or match["bare"] or "")
        if not location:
            continue
        file = location["file"].removeprefix("file://")
        lineno, colno = int(location["line"]), int(location["column"])
        frame: dict[str, Any] = {"function": function, "lineno": lineno, "colno": colno}
        if file.startswith("node:"):
            frame |= {"filename": file, "abs_path": file, "module": file.removeprefix("node:"), "in_app": False}
        elif Path(file).is_relative_to(checkout):
            rel = Path(file).relative_to(checkout).as_posix()
            lines = Path(file).read_text(encoding="utf-8").splitlines()
            folder, _, base = rel.rpartition("/")
            module = f"{folder.replace('/', '.')}:{base.rsplit('.', 1)[0]}" if folder else base.rsplit(".", 1)[0]
            frame |= {"filename": prefix + rel, "abs_path": prefix + rel, "module": module, "in_app": True}
            frame |= _context(lines, lineno)
        else:
            continue  # the trigger harness and the tools' node_modules: not part of the deployed application
        frames.append(frame)
    return list(reversed(frames))


def route_params(route: str, path: str) -> dict[str, str]:
    """Next.js-style ``[name]`` (or Express-style ``:name``) segments of ``route`` filled from ``path``."""
    params: dict[str, str] = {}
    for pattern, value in zip(route.strip("/").split("/"), urlsplit(path).path.strip("/").split("/"), strict=False):
        if pattern.startswith("[") and pattern.endswith("]"):
            params[pattern.strip("[]").removeprefix("...")] = value
        elif pattern.startswith(":"):
            params[pattern[1:]] = value
    return params


def first_seen(scenario: Path, spec: dict[str, Any]) -> datetime:
    """When the first event happened: 45 minutes after the bug commit, or the trigger's ``first_seen``."""
    patch = scenario / "bug.patch"
    if patch.exists():
        message = email.message_from_string(patch.read_text(encoding="utf-8"))
        date = email.utils.parsedate_to_datetime(message["Date"])
        return date.astimezone(UTC) + timedelta(minutes=45)
    return datetime.fromisoformat(spec["first_seen"]).astimezone(UTC)


def run_trigger(language: str, checkout: Path, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Send the trigger requests to the real code; return one captured record per request."""
    keys = ("method", "path", "json", "body", "headers", "args", "kwargs")
    requests = [{k: v for k, v in r.items() if k in keys} for r in spec["requests"]]
    if language == "python":
        entry = ["--function", spec["function"]] if "function" in spec else ["--app", spec["app"]]
        argv = [sys.executable, str(TOOLS / "py_trigger.py"), *entry, "--requests", json.dumps(requests)]
    else:
        for request in requests:
            if "path" in request:
                request["params"] = route_params(spec["route"], request["path"])
        mode = spec.get("mode", "route")
        # A TOML date-time argument is a JavaScript Date: sent as {"$date": iso}, revived by the trigger.
        sent = json.dumps(requests, default=lambda v: {"$date": v.isoformat()} if isinstance(v, datetime) else v)
        argv = [str(NODE_BIN / "tsx"), str(TOOLS / "ts_trigger.mts"), spec["module"], spec["export"], sent, mode]
        if spec.get("local_variables"):
            argv.append("vars")
    result = subprocess.run(argv, cwd=checkout, env=tool_env(), capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"trigger failed in {checkout}:\n{result.stdout}\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def sentry_event(
    *,
    name: str,
    index: int,
    language: str,
    spec: dict[str, Any],
    request: dict[str, Any],
    record: dict[str, Any],
    checkout: Path,
    when: datetime,
) -> dict[str, Any]:
    """One Sentry-protocol event for one captured failure."""
    prefix = spec["deploy_prefix"]
    if language == "python":
        values = [
            {
                "type": exc["type"],
                # An ImportError names the module's file: where it runs in production, not the temporary checkout.
                "value": exc["value"].replace(f"{checkout}/", prefix),
                "module": None if exc["module"] == "builtins" else exc["module"],
                "mechanism": {"type": spec.get("mechanism", "starlette"), "handled": False},
                "stacktrace": {
                    "frames": python_frames(
                        exc["frames"], checkout=checkout, prefix=prefix, with_vars=spec.get("local_variables", True)
                    )
                },
            }
            for exc in record["exceptions"]
        ]
        platform, runtime = "python", {"name": "CPython", "version": "3.11.7"}
    else:
        error = record["error"]
        values = [
            {
                "type": error["type"],
                "value": error["message"],
                "mechanism": {"type": spec.get("mechanism", "auto.function.nextjs.route_handler"), "handled": False},
                "stacktrace": {"frames": v8_frames(error["stack"], checkout=checkout, prefix=prefix)},
            }
        ]
        if "vars" in error:  # the called function's frame carries its arguments (LocalVariables)
            called = [f for f in values[0]["stacktrace"]["frames"] if f.get("in_app") and f["function"] == spec["export"]]
            if called:
                called[-1]["vars"] = error["vars"]
        platform, runtime = "node", {"name": "node", "version": "v20.20.2"}
    event: dict[str, Any] = {
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"medic-scenario:{name}:{index}").hex,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "platform": platform,
        "level": "error",
        "logger": "",
        "transaction": spec.get("transaction") or f"{request['method']} {spec['route']}",
        "server_name": spec["server_name"],
        "release": spec["release"],
        "environment": "production",
        "exception": {"values": values},
        "tags": {"service": spec["service"], "runtime": f"{runtime['name']} {runtime['version']}"},
        "contexts": {"runtime": runtime},
        "sdk": {"name": "medic.examples.eventgen", "version": "1.0.0"},
    }
    if "route" in spec:
        event["tags"]["route"] = spec["route"]
    if "user" in request:
        event["user"] = {"id": request["user"], "ip_address": request.get("ip", f"203.0.113.{10 + index}")}
    if "path" in request:  # an HTTP request; a worker job or a plain function call has none
        parts = urlsplit(spec["host"].rstrip("/") + request["path"])
        headers = {
            "user-agent": request.get("user_agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15"),
            **request.get("headers", {}),
        }
        if "json" in request:
            headers["content-type"] = "application/json"
        event["request"] = {
            "method": request["method"],
            "url": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "query_string": parts.query,
            "headers": headers,
            **({"data": request["json"]} if "json" in request else {"data": request["body"]} if "body" in request else {}),
        }
    else:
        event["tags"]["job"] = spec.get("transaction", "")
    return event


def generate(name: str, triggers: dict[str, Any]) -> list[dict[str, Any]]:
    """Run scenario ``name`` for real and return its Sentry events."""
    scenario = scenario_dir(name)
    language = load_scenario(scenario)["language"]
    spec = triggers[name]
    start = first_seen(scenario, spec)
    with tempfile.TemporaryDirectory(prefix=f"eventgen-{name}-") as tmp:
        checkout = materialise(scenario, Path(tmp) / "repo").resolve()
        records = run_trigger(language, checkout, spec)
        events = []
        for index, (request, record) in enumerate(zip(spec["requests"], records, strict=True)):
            if "exceptions" not in record and "error" not in record:
                what = f"{request['method']} {request['path']}" if "path" in request else f"call {request.get('args')}"
                raise RuntimeError(f"{name}: request {what} did not fail (status {record.get('status')})")
            when = start + timedelta(seconds=97 * index + 13 * (index % 3))
            events.append(
                sentry_event(
                    name=name,
                    index=index,
                    language=language,
                    spec=spec,
                    request=request,
                    record=record,
                    checkout=checkout,
                    when=when,
                )
            )
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate scenario events.jsonl by running the failing code.")
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: every scenario in triggers.toml)")
    args = parser.parse_args()
    with (TOOLS / "triggers.toml").open("rb") as fh:
        triggers = tomllib.load(fh)
    for name in args.scenarios or sorted(triggers):
        events = generate(name, triggers)
        out = scenario_dir(name) / "events.jsonl"
        out.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events), encoding="utf-8")
        print(f"{name}: {len(events)} events -> {out.relative_to(CORPUS.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
