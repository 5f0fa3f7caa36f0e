"""Reproducing regression tests generated from the failing request.

When the event carries the request that failed, the implementer writes a test that replays it
against the application in-process — FastAPI's ``TestClient`` or Flask's test client for Python, a
direct call of the exported Next.js route handler for TypeScript — and asserts it no longer ends in
a server error. The test is kept only if it fails on the unfixed code and passes with the fix
(checked by the pipeline with real test runs). Everything from the request is embedded as string
literals (``json.dumps``), never as code.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from medic_contracts import RequestContext

__all__ = [
    "AppLocation",
    "RegressionTest",
    "find_python_app",
    "python_regression_test",
    "python_test_module",
    "route_params",
    "typescript_regression_test",
]

_APP_ASSIGN = re.compile(r"^(\w+)\s*(?::\s*\w+\s*)?=\s*(FastAPI|Flask|Starlette)\(", re.M)
_FRAMING_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding", "content-type"})
_HTTP_METHOD = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$")


@dataclass(frozen=True, slots=True)
class AppLocation:
    """Where a Python web application object is defined."""

    file: str
    variable: str
    framework: str  # fastapi | starlette | flask

    @property
    def module(self) -> str:
        """The dotted module to import it from (``app/main.py`` → ``app.main``)."""
        path = PurePosixPath(self.file).with_suffix("")
        parts = list(path.parts)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)


@dataclass(frozen=True, slots=True)
class RegressionTest:
    """A generated test file and the command that runs it alone."""

    path: str
    content: str
    description: str
    command: str = ""
    cwd: str = ""  # where the command runs, relative to the repository (the test's package: its tsconfig applies)


def regression_command(test_command: str, path: str) -> str:
    """The command running only the generated test, in the runner the target's test command uses."""
    quoted = shlex.quote(path)
    if path.endswith(".py"):
        return f"python {quoted}"  # a generated Python test runs as a script too: no pytest needed
    if "vitest" in test_command:
        return f"vitest run {quoted}"
    if "jest" in test_command:
        return f"jest {quoted}"
    if "node --test" in test_command or "node --import" in test_command:
        return f"node --import tsx --test {quoted}"
    return f"tsx --test {quoted}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()[:40] or "issue"


def request_path(request: RequestContext) -> str | None:
    """Path and query of the failing request, when its URL (or an unmasked route) is known."""
    path: str | None = None
    query = request.query
    if request.url:
        parts = urlsplit(request.url)
        path = parts.path or "/"
        query = query or parts.query or None
    elif request.route and not re.search(r"[:{\[*]", request.route):
        path = request.route
    if path is None or not path.startswith("/"):
        return None
    return f"{path}?{query}" if query else path


def find_python_app(files: dict[str, str]) -> AppLocation | None:
    """The FastAPI or Flask application object among ``files`` (path → text), shallowest first."""
    for path in sorted(files, key=lambda p: (p.count("/"), "test" in p, p)):
        match = _APP_ASSIGN.search(files[path])
        if match:
            return AppLocation(file=path, variable=match.group(1), framework=match.group(2).lower())
    return None


def python_regression_test(
    *,
    issue_id: str,
    title: str,
    request: RequestContext,
    app: AppLocation,
    test_dir: str,
    expected: dict[str, Any] | None = None,
) -> RegressionTest | None:
    """A test replaying ``request`` against ``app``; None without a concrete method and path.

    It runs under pytest and as a plain script (``python <file>``: the target's environment needs no pytest
    for Medic to run it). Server exceptions propagate, so on the unfixed code it records the exception and
    its frames; ``expected`` (the fixed code's status and body shape) pins the outcome once a fix is known.
    """
    path = request_path(request)
    method = (request.method or "GET").upper()
    if path is None or not _HTTP_METHOD.match(method):
        return None
    depth = len(PurePosixPath(test_dir).parts) if test_dir not in ("", ".") else 0
    body = request.body
    name = f"test_medic_regression_{_slug(issue_id)}"
    file = str(PurePosixPath(test_dir) / f"{name}.py") if depth else f"{name}.py"
    content_type = request.headers.get("content-type") or (
        "application/json" if body and body.lstrip().startswith(("{", "[")) else None
    )
    headers = {"content-type": content_type} if content_type else {}
    if app.framework in ("fastapi", "starlette"):
        setup = f"from starlette.testclient import TestClient\n        client = TestClient({app.variable})"
        call = f"client.request({method!r}, {path!r}, content={body!r}, headers={headers!r})"
        read = "        try:\n            body = response.json()\n        except ValueError:\n            body = response.text\n"
    else:
        setup = f'{app.variable}.config["PROPAGATE_EXCEPTIONS"] = True\n        client = {app.variable}.test_client()'
        call = f"client.open({path!r}, method={method!r}, data={body!r}, headers={headers!r})"
        read = (
            "        body = response.get_json(silent=True)\n"
            "        if body is None:\n"
            "            body = response.get_data(as_text=True)\n"
        )
    observe = (
        "def _observe() -> dict[str, Any]:\n"
        "    try:\n"
        f"        from {app.module} import {app.variable}\n\n"
        f"        {setup}\n"
        f"        response = {call}\n"
        f"{read}"
        "    except Exception as exc:  # the crash this test reproduces\n"
        '        return {"raised": type(exc).__name__, "frames": _frames(exc)}\n'
        '    return {"status": response.status_code, "body": body}\n'
    )
    checks = (
        f'    assert observed.get("status", 500) < 500, {f"{method} {path} still fails: "!r} + str(observed.get("status"))\n'
        "    if EXPECTED is not None:\n"
        '        assert {"status": observed["status"], "body_shape": _shape(observed["body"])} == EXPECTED\n'
    )
    return RegressionTest(
        path=file,
        content=python_test_module(
            issue_id=issue_id, title=title, name=name, depth=depth, observe=observe, checks=checks, expected=expected
        ),
        description=f"{method} {path} must not end in a server error"
        + (f" and answers {expected['status']} with its body's shape" if expected else ""),
        command=regression_command("python", file),
    )


def python_test_module(
    *, issue_id: str, title: str, name: str, depth: int, observe: str, checks: str, expected: dict[str, Any] | None
) -> str:
    """A generated Python regression test: ``observe`` (defining ``_observe()``), the observation written where
    ``MEDIC_OBSERVE`` says, no exception, then ``checks`` (which may read ``EXPECTED``)."""
    return (
        f'"""Regression test generated by Medic for issue {issue_id}: {json.dumps(title[:150])[1:-1]}."""\n\n'
        "import json\n"
        "import os\n"
        "import sys\n"
        "import traceback\n"
        "from pathlib import Path\n"
        "from typing import Any\n\n"
        f"sys.path.insert(0, str(Path(__file__).resolve().parents[{depth}]))\n\n"
        f"EXPECTED = json.loads({json.dumps(json.dumps(expected))})\n\n\n"
        "def _frames(exc: BaseException) -> list[list[str]]:\n"
        "    return [[f.filename, f.name] for f in traceback.extract_tb(exc.__traceback__)]\n\n\n"
        "def _shape(value: Any) -> Any:\n"
        "    if isinstance(value, dict):\n"
        "        return {str(k): _shape(v) for k, v in sorted(value.items())}\n"
        "    if isinstance(value, list):\n"
        "        return [_shape(value[0])] if value else []\n"
        "    if isinstance(value, bool):\n"
        '        return "boolean"\n'
        "    if isinstance(value, (int, float)):\n"
        '        return "number"\n'
        '    return "null" if value is None else "string"\n\n\n'
        f"{observe}\n\n"
        f"def {name}() -> None:\n"
        "    observed = _observe()\n"
        '    if os.environ.get("MEDIC_OBSERVE"):\n'
        '        Path(os.environ["MEDIC_OBSERVE"]).write_text(json.dumps(observed, default=repr))\n'
        '    if not (EXPECTED or {}).get("raised"):\n'
        '        assert "raised" not in observed, f"still raises {observed.get(\'raised\')}"\n'
        f"{checks}\n\n"
        'if __name__ == "__main__":\n'
        f"    {name}()\n"
    )


def route_params(route_file: str, path: str) -> dict[str, str | list[str]] | None:
    """Next.js dynamic segment values: ``app/api/practices/[id]/route.ts`` + ``/api/practices/42`` → ``{"id": "42"}``."""
    parts = PurePosixPath(route_file).parts
    if "app" not in parts:
        return {}
    segments = [
        s for s in parts[parts.index("app") + 1 : -1] if not (s.startswith("(") and s.endswith(")")) and not s.startswith("@")
    ]
    values = [s for s in path.split("?", 1)[0].split("/") if s]
    params: dict[str, str | list[str]] = {}
    for i, segment in enumerate(segments):
        catch_all = re.fullmatch(r"\[\[?\.\.\.(\w+)\]?\]", segment)
        if catch_all:
            params[catch_all.group(1)] = values[i:]
            return params
        if i >= len(values):
            return None
        dynamic = re.fullmatch(r"\[(\w+)\]", segment)
        if dynamic:
            params[dynamic.group(1)] = values[i]
        elif segment != values[i]:
            return None
    return params if len(values) == len(segments) else None


def _relative_import(from_file: str, to_file: str) -> str:
    source = PurePosixPath(from_file).parent.parts
    target = PurePosixPath(to_file).with_suffix("")
    common = 0
    while common < min(len(source), len(target.parts) - 1) and source[common] == target.parts[common]:
        common += 1
    ups = [".."] * (len(source) - common)
    rel = "/".join([*ups, *target.parts[common:]])
    return rel if rel.startswith(".") else f"./{rel}"


def typescript_regression_test(
    *,
    issue_id: str,
    title: str,
    request: RequestContext,
    route_file: str,
    route_text: str,
    test_command: str,
    test_file: str,
    package_dir: str = "",
    expected: dict[str, Any] | None = None,
) -> RegressionTest | None:
    """A test calling the exported route handler with ``request``; None when it cannot be built.

    ``package_dir`` is the folder of the package holding the test (its package.json/tsconfig.json):
    the test runs from there, so the package's path aliases (``@/lib/...``) resolve.
    """
    path = request_path(request)
    method = (request.method or "GET").upper()
    if path is None or not _HTTP_METHOD.match(method):
        return None
    if not re.search(rf"export\s+(?:async\s+)?(?:function\s+{method}\b|const\s+{method}\b)", route_text):
        return None
    params = route_params(route_file, path)
    if params is None:
        return None
    runner = "vitest" if "vitest" in test_command else "jest" if "jest" in test_command else "node"
    header = {
        "vitest": 'import { test, expect } from "vitest";\n',
        "jest": "",
        "node": 'import { test } from "node:test";\nimport assert from "node:assert/strict";\n',
    }[runner]
    label = json.dumps(f"{method} {path} ")
    checks = (
        (
            f"  assert.equal(observed.raised, undefined, {label} + `still raises ${{observed.raised}}`);\n"
            f"  assert.ok(observed.status < 500, {label} + `status ${{observed.status}}`);\n"
            "  const outcome = { status: observed.status, body_shape: shape(observed.body) };\n"
            "  if (expected !== null) assert.deepEqual(outcome, expected);\n"
        )
        if runner == "node"
        else (
            "  expect(observed.raised).toBeUndefined();\n"
            "  expect(observed.status).toBeLessThan(500);\n"
            "  const outcome = { status: observed.status, body_shape: shape(observed.body) };\n"
            "  if (expected !== null) expect(outcome).toEqual(expected);\n"
        )
    )
    init: dict[str, object] = {"method": method}
    # The request's own headers (a signed-in user's id, a signature) travel with it; framing headers do not.
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in _FRAMING_HEADERS}
    if request.body and method not in ("GET", "HEAD"):
        init["body"] = request.body
        headers["content-type"] = request.headers.get("content-type", "application/json")
    if headers:
        init["headers"] = headers
    next_request = "next/server" in route_text and "NextRequest" in route_text
    request_ctor = "new NextRequest" if next_request else "new Request"
    imports = header + 'import { writeFileSync } from "node:fs";\n'
    imports += 'import { NextRequest } from "next/server";\n' if next_request else ""
    imports += f'import {{ {method} }} from "{_relative_import(test_file, route_file)}";\n'
    what = "must not end in a server error" + (f" and answers {expected['status']}" if expected else "")
    content = (
        f"// Regression test generated by Medic for issue {issue_id}: {json.dumps(title[:150])[1:-1]}\n"
        f"{imports}\n"
        f"const expected: unknown = {json.dumps(expected)};\n\n"
        f"{_TS_HELPERS}\n"
        f"test({json.dumps(f'medic regression {issue_id}: {method} {path} {what}')}, async () => {{\n"
        f"  const params = {json.dumps(params)};\n"
        "  // Next.js 15 passes params as a promise, 13-14 as an object: this works with both.\n"
        "  const context = { params: Object.assign(Promise.resolve(params), params) };\n"
        f"  const request = {request_ctor}({json.dumps('http://localhost' + path)}, {json.dumps(init)});\n"
        "  let observed: Record<string, any>;\n"
        "  try {\n"
        f"    const response = await {method}(request as never, context as never);\n"
        "    const text = await response.text();\n"
        "    let body: unknown = text;\n"
        "    try {\n"
        "      body = JSON.parse(text);\n"
        "    } catch {\n"
        "      // not JSON: the text is the body\n"
        "    }\n"
        "    observed = { status: response.status, body };\n"
        "  } catch (error) {\n"
        "    observed = { raised: (error as Error)?.name ?? typeof error, frames: frames(error) };\n"
        "  }\n"
        "  if (process.env.MEDIC_OBSERVE) writeFileSync(process.env.MEDIC_OBSERVE, JSON.stringify(observed));\n"
        f"{checks}"
        "});\n"
    )
    return RegressionTest(
        path=test_file,
        content=content,
        description=f"{method} {path} {what}",
        command=regression_command(test_command, _within(test_file, package_dir)),
        cwd=package_dir,
    )


#: The helpers every generated TypeScript test carries: the stack as (file, function, line) places and as
#: (file, function) frames, innermost last, and the shape of a JSON body (as
#: :func:`medic_implementer.domain.reproduction.shape` computes it).
_TS_HELPERS = """function places(error: unknown): [string, string, number][] {
  const lines = String((error as Error)?.stack ?? "").split("\\n").slice(1);
  const found = lines.map((line) => /at (?:async )?(?:(\\S+) \\()?(.+?):(\\d+):\\d+\\)?$/.exec(line.trim()));
  const kept = found.filter((m) => m !== null);
  return kept.map((m): [string, string, number] => [m![2], m![1] ?? "<anonymous>", Number(m![3])]).reverse();
}

function frames(error: unknown): string[][] {
  return places(error).map(([file, name]) => [file, name]);
}

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") {
    const entries = Object.keys(value as object).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]);
    return Object.fromEntries(entries);
  }
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  return "string";
}
"""

#: Only in tests that embed arguments (a helper the file never calls would be an unused local to a strict tsc).
_TS_REVIVE = """// {"$date": iso} in the embedded JSON is a Date argument (JSON has no dates).
function revive(value: unknown): any {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  const date = (value as Record<string, unknown>).$date;
  if (keys.length === 1 && typeof date === "string") return new Date(date);
  return Object.fromEntries(keys.map((k) => [k, revive((value as Record<string, unknown>)[k])]));
}
"""


def _within(path: str, folder: str) -> str:
    """``path`` relative to ``folder`` (both relative to the repository)."""
    return str(PurePosixPath(path).relative_to(folder)) if folder else path
