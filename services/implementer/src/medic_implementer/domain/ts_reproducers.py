"""TypeScript reproducers beyond a crashing Next.js route file: the route that reached a library crash, an
Express-style ``(req, res)`` handler (or one returning its own ``{ status, body }``), and a plain exported
function called with the crashing frame's arguments.

Like :func:`.regression.typescript_regression_test`, each generated test records what it observed in the file
``MEDIC_OBSERVE`` names (the exception with its frames, or the outcome) and embeds everything from the event as
JSON literals, never as code. Which handler and which arguments are read from the code's syntax tree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from medic_contracts import RequestContext

from .fixers.typescript.syntax import FUNCTIONS, parse, text_of, walk_all
from .regression import (
    _TS_HELPERS,
    _TS_REVIVE,
    RegressionTest,
    _relative_import,
    _within,
    regression_command,
    request_path,
    route_params,
)

__all__ = [
    "call_values",
    "exported_function",
    "express_handler_test",
    "express_query",
    "handler_params",
    "next_route_file",
    "typescript_function_test",
]

_ROUTE = re.compile(r"(^|/)app/(.+/)?route\.(ts|js|mjs|tsx|jsx)$")
_REQ_NAMES = ("req", "request")
_RES_NAMES = ("res", "response", "reply")


def express_query(query: str) -> dict[str, str | list[str]]:
    """``req.query`` as Express's parser builds it: a value per name, an array for a repeated name (``?tag=a&tag=b``)
    or a ``name[]`` one."""
    values: dict[str, list[str]] = {}
    arrays: set[str] = set()
    for key, value in parse_qsl(query, keep_blank_values=True):
        name = key[:-2] if key.endswith("[]") else key
        if name != key:
            arrays.add(name)
        values.setdefault(name, []).append(value)
    return {k: v if len(v) > 1 or k in arrays else v[0] for k, v in values.items()}


def next_route_file(files: Iterable[str], path: str) -> str | None:
    """The Next.js App Router ``route.ts`` serving ``path`` (static segments beat dynamic ones); None unless one."""
    ranked: list[tuple[int, str]] = []
    for file in files:
        if _ROUTE.search(file) and route_params(file, path) is not None and "/node_modules/" not in f"/{file}":
            ranked.append((file.count("["), file))
    ranked.sort()
    if not ranked or (len(ranked) > 1 and ranked[0][0] == ranked[1][0]):
        return None
    return ranked[0][1]


def exported_function(text: str, path: str, name: str) -> tuple[list[tuple[str, str]], bool] | None:
    """``name``'s parameters (name, declared type) when the module exports it as a function; the bool says async."""
    root = parse(text, path)
    for node in walk_all(root):
        if node.type != "export_statement":
            continue
        for decl in walk_all(node):
            fn: Any = None
            if decl.type == "function_declaration" and (n := decl.child_by_field_name("name")) is not None:
                fn = decl if text_of(n) == name else None
            elif decl.type == "variable_declarator" and (n := decl.child_by_field_name("name")) is not None:
                value = decl.child_by_field_name("value")
                fn = value if text_of(n) == name and value is not None and value.type in FUNCTIONS else None
            if fn is None:
                continue
            params = fn.child_by_field_name("parameters")
            found: list[tuple[str, str]] = []
            for param in params.named_children if params is not None else ():
                if param.type not in ("required_parameter", "optional_parameter"):
                    return None  # rest parameters and the like: not replayable
                pattern, kind = param.child_by_field_name("pattern"), param.child_by_field_name("type")
                if pattern is None or pattern.type != "identifier":
                    return None
                found.append((text_of(pattern), text_of(kind).lstrip(":").strip() if kind is not None else ""))
            return found, text_of(fn).lstrip().startswith("async") or "async" in text_of(decl).split("(", 1)[0]
    return None


def handler_params(text: str, request_name: str) -> list[str]:
    """Route parameter names a handler reads: ``req.params.id``, ``req.params["id"]``, ``const { id } = req.params``."""
    names: list[str] = []
    esc = re.escape(request_name)
    for match in re.finditer(rf"\b{esc}\.params(?:\.([A-Za-z_$][\w$]*)|\[\s*[\"']([^\"']+)[\"']\s*\])", text):
        names.append(match.group(1) or match.group(2))
    for match in re.finditer(rf"\{{([^{{}}]*)\}}\s*=\s*{esc}\.params\b", text):
        names.extend(n.split(":")[0].strip() for n in match.group(1).split(",") if n.strip())
    return list(dict.fromkeys(n for n in names if re.fullmatch(r"[A-Za-z_$][\w$]*", n)))


def _params_from(route: str | None, path: str, names: list[str]) -> dict[str, str] | None:
    """Values of ``names``: from a ``:name`` route template when it matches, else the path's last segments in order."""
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    if route and ":" in route:
        template = [s for s in route.split("/") if s]
        if len(template) == len(segments):
            found = {t[1:]: v for t, v in zip(template, segments, strict=True) if t.startswith(":")}
            if set(names) <= set(found):
                return found
    if len(names) > len(segments):
        return None
    # Values look like ids (a digit, an underscore, a capital), resource names are plain words: /classes/cl_9/roster.
    valued = [s for s in segments if not re.fullmatch(r"[a-z]+(?:-[a-z]+)*", s)]
    chosen = valued if len(valued) == len(names) else segments[len(segments) - len(names) :]
    return dict(zip(names, chosen, strict=True)) if names else {}


def _regression_test(
    *,
    issue_id: str,
    title: str,
    label: str,
    function: str,
    source_file: str,
    test_file: str,
    observe: str,
    checks: str,
    expected: dict[str, Any] | None,
    test_command: str,
    package_dir: str,
) -> RegressionTest:
    """A node:test file calling ``function`` of ``source_file``: ``observe`` sets ``observed``, which is written
    where ``MEDIC_OBSERVE`` says, then checked; run with the target's test command from ``package_dir``."""
    imports = f'import {{ {function} }} from "{_relative_import(test_file, source_file)}";\n'
    pinned = "  if (expected !== null) assert.deepEqual(outcome, expected);\n"
    content = (
        f"// Regression test generated by Medic for issue {issue_id}: {json.dumps(title[:150])[1:-1]}\n"
        'import { test } from "node:test";\nimport assert from "node:assert/strict";\n'
        'import { writeFileSync } from "node:fs";\n'
        f"{imports}\n"
        f"const expected: unknown = {json.dumps(expected)};\n\n"
        f"{_TS_HELPERS}\n"
        + (f"{_TS_REVIVE}\n" if "revive(" in observe else "")
        + f"test({json.dumps(f'medic regression {issue_id}: {label}')}, async () => {{\n"
        "  let observed: Record<string, any>;\n"
        "  try {\n"
        f"{observe}"
        "  } catch (error) {\n"
        "    observed = { raised: (error as Error)?.name ?? typeof error, frames: frames(error) };\n"
        "  }\n"
        "  if (process.env.MEDIC_OBSERVE) writeFileSync(process.env.MEDIC_OBSERVE, JSON.stringify(observed));\n"
        "  const raises = (expected as { raised?: string } | null)?.raised;\n"
        "  if (raises === undefined) assert.equal(observed.raised, undefined, `still raises ${observed.raised}`);\n"
        f"{checks}"
        f"{pinned}"
        "});\n"
    )
    return RegressionTest(
        path=test_file,
        content=content,
        description=label,
        command=regression_command(test_command, _within(test_file, package_dir)),
        cwd=package_dir,
    )


def express_handler_test(
    *,
    issue_id: str,
    title: str,
    request: RequestContext,
    handler_file: str,
    handler_text: str,
    function: str,
    test_command: str,
    test_file: str,
    package_dir: str = "",
    expected: dict[str, Any] | None = None,
) -> RegressionTest | None:
    """A test calling an exported ``(req[, res])`` handler with the failing request; None when it cannot be built.

    ``req`` carries method, url, path, params (read from the handler's own ``req.params`` use), query, body and
    headers; ``res`` records ``status()``/``json()``/``send()``. The outcome is the handler's returned
    ``{ status, body }`` when it returns one, else what it wrote to ``res``.
    """
    path = request_path(request)
    if path is None or "vitest" in test_command or "jest" in test_command:
        return None
    signature = exported_function(handler_text, handler_file, function)
    if signature is None or not signature[0] or signature[0][0][0] not in _REQ_NAMES:
        return None
    params = signature[0]
    if len(params) > 2 or (len(params) == 2 and params[1][0] not in _RES_NAMES):
        return None
    names = handler_params(handler_text, params[0][0])
    values = _params_from(request.route, path, names)
    if values is None:
        return None
    parts = urlsplit("http://localhost" + path)
    body: Any = None
    if request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            body = request.body
    method = (request.method or "GET").upper()
    req = {
        "method": method,
        "url": path,
        "path": parts.path,
        "originalUrl": path,
        "params": values,
        "query": express_query(parts.query),
        "body": body,
        "headers": {k.lower(): v for k, v in request.headers.items()},
    }
    observe = (
        f"    const req = {json.dumps(req)};\n"
        "    const res: any = {\n"
        "      statusCode: 200,\n"
        "      body: undefined as unknown,\n"
        "      headers: {} as Record<string, string>,\n"
        "      status(code: number) { this.statusCode = code; return this; },\n"
        "      json(value: unknown) { this.body = value; return this; },\n"
        "      send(value: unknown) { this.body = value; return this; },\n"
        "      end(value?: unknown) { if (value !== undefined) this.body = value; return this; },\n"
        "      set(name: string, value: string) { this.headers[name.toLowerCase()] = value; return this; },\n"
        "      setHeader(name: string, value: string) { this.headers[name.toLowerCase()] = value; return this; },\n"
        "      sendStatus(code: number) { this.statusCode = code; return this; },\n"
        "    };\n"
        f"    const out: any = await ({function} as any)(req, res);\n"
        '    observed = out && typeof out === "object" && typeof out.status === "number"\n'
        "      ? { status: out.status, body: out.body ?? null, handler: true }\n"
        "      : { status: res.statusCode, body: res.body ?? null, handler: true };\n"
    )
    checks = (
        "  assert.ok(observed.status < 500, `status ${observed.status}`);\n"
        "  const outcome = { status: observed.status, body_shape: shape(observed.body) };\n"
    )
    label = f"{method} {path} through {function}" + (f" answers {expected['status']}" if expected else " must not fail")
    return _regression_test(
        issue_id=issue_id,
        title=title,
        label=label,
        function=function,
        source_file=handler_file,
        test_file=test_file,
        observe=observe,
        checks=checks,
        expected=expected,
        test_command=test_command,
        package_dir=package_dir,
    )


def call_values(params: list[tuple[str, str]], frame_vars: dict[str, str]) -> list[Any] | None:
    """The arguments to call a function with, from its frame's variables (None when a parameter has no value).

    Values arrive as text (JSON for non-strings, the string itself for a string): a ``string`` parameter takes
    the text as it is, others parse it as JSON; Sentry's ``<undefined>``/``<null>`` markers read as such.
    """
    values: list[Any] = []
    for name, declared in params:
        text = frame_vars.get(name)
        if text is None:
            return None
        if text in ("<undefined>", "<null>"):
            values.append(None)
            continue
        if declared == "string":
            values.append(text)
            continue
        try:
            values.append(json.loads(text))
        except ValueError:
            if declared and declared != "string":
                return None
            values.append(text)
    return values


def typescript_function_test(
    *,
    issue_id: str,
    title: str,
    file: str,
    function: str,
    arguments: list[Any],
    test_command: str,
    test_file: str,
    package_dir: str = "",
    expected: dict[str, Any] | None = None,
) -> RegressionTest | None:
    """A test calling exported ``function`` of ``file`` with ``arguments``; ``expected`` pins its return value."""
    if "vitest" in test_command or "jest" in test_command:
        return None
    shown = json.dumps(arguments)[1:-1][:200]
    observe = (
        f"    const args: unknown[] = revive({json.dumps(arguments)});\n"
        f"    const result: unknown = await ({function} as any)(...args);\n"
        "    observed = { returned: result === undefined ? null : JSON.parse(JSON.stringify(result)) };\n"
    )
    checks = "  const outcome = raises !== undefined ? { raised: observed.raised } : { returned: observed.returned };\n"
    if expected and "raised" in expected:
        label = f"{function}({shown}) throws {expected['raised']}"[:300]
    else:
        label = f"{function}({shown}) " + (f"returns {json.dumps(expected['returned'])[:200]}" if expected else "must not throw")
    return _regression_test(
        issue_id=issue_id,
        title=title,
        label=label,
        function=function,
        source_file=file,
        test_file=test_file,
        observe=observe,
        checks=checks,
        expected=expected,
        test_command=test_command,
        package_dir=package_dir,
    )
