"""Reproducing regression tests for a plain Python function, from the crashing frame's arguments.

When the event has no request but the SDK sent the frame's local variables, the function can be called
again with the same arguments. Sentry's Python SDK sends each value as its ``repr``: only values that are
Python literals (``ast.literal_eval``: strings, numbers, containers, ``None``) are replayed, and they are
embedded in the test as JSON text parsed by ``literal_eval`` there too — never as code. A parameter without
a default and without a literal value means no reproducer.
"""

from __future__ import annotations

import ast
import json
from pathlib import PurePosixPath
from typing import Any

from .regression import RegressionTest, python_test_module, regression_command

__all__ = ["call_arguments", "module_of", "python_function_test"]


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def call_arguments(source: str, function: str, frame_vars: dict[str, str]) -> dict[str, str] | None:
    """The keyword arguments (name → literal text) to call module-level ``function`` of ``source`` with.

    None when the function is not a module-level one, takes ``*args``/``**kwargs`` or positional-only
    parameters, or a parameter without a default has no literal value in ``frame_vars``.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    node = _function(tree, function)
    if node is None or node.args.vararg or node.args.kwarg or node.args.posonlyargs:
        return None
    params = [*node.args.args, *node.args.kwonlyargs]
    required = len(node.args.args) - len(node.args.defaults)
    kw_required = {a.arg for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d is None}
    chosen: dict[str, str] = {}
    for index, param in enumerate(params):
        text = frame_vars.get(param.arg)
        must = index < required or param.arg in kw_required
        if text is None:
            if must:
                return None
            continue
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            if must:
                return None
            continue
        chosen[param.arg] = text
    return chosen


def module_of(path: str) -> tuple[str, int]:
    """The dotted module of a repository file and how many folders of it are an import root (``src/`` layouts)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    root = 1 if len(parts) > 1 and parts[0] == "src" else 0
    parts = parts[root:]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts), root


def python_function_test(
    *,
    issue_id: str,
    title: str,
    file: str,
    function: str,
    arguments: dict[str, str],
    test_dir: str,
    expected: dict[str, Any] | None = None,
) -> RegressionTest:
    """A test calling ``function`` of ``file`` with ``arguments`` (literal texts); ``expected`` pins its return value."""
    module, src_root = module_of(file)
    depth = len(PurePosixPath(test_dir).parts) if test_dir not in ("", ".") else 0
    name = f"test_medic_regression_{''.join(c if c.isalnum() else '_' for c in issue_id).strip('_').lower()[:40] or 'issue'}"
    path = str(PurePosixPath(test_dir) / f"{name}.py") if depth else f"{name}.py"
    sys_path = f"        sys.path.insert(0, str(Path(__file__).resolve().parents[{depth}] / 'src'))\n" if src_root else ""
    observe = (
        "def _jsonable(value: Any) -> Any:\n"
        "    try:\n"
        "        return json.loads(json.dumps(value))\n"
        "    except (TypeError, ValueError):\n"
        '        return {"__repr__": repr(value)}\n\n\n'
        "def _observe() -> dict[str, Any]:\n"
        "    import ast\n"
        "    import inspect\n\n"
        f"    arguments = {{k: ast.literal_eval(v) for k, v in json.loads({json.dumps(json.dumps(arguments))}).items()}}\n"
        "    try:\n"
        f"{sys_path}"
        f"        from {module} import {function}\n\n"
        f"        result = {function}(**arguments)\n"
        "        if inspect.isawaitable(result):\n"
        "            import asyncio\n\n"
        "            result = asyncio.run(result)\n"
        "    except Exception as exc:  # the crash this test reproduces\n"
        '        return {"raised": type(exc).__name__, "frames": _frames(exc)}\n'
        '    return {"returned": _jsonable(result)}\n'
    )
    checks = (
        "    if EXPECTED is not None:\n"
        '        outcome = {"raised": observed.get("raised")} if "raised" in EXPECTED else {"returned": observed["returned"]}\n'
        "        assert outcome == EXPECTED\n"
    )
    shown = ", ".join(f"{k}={v}" for k, v in arguments.items())[:200]
    return RegressionTest(
        path=path,
        content=python_test_module(
            issue_id=issue_id, title=title, name=name, depth=depth, observe=observe, checks=checks, expected=expected
        ),
        description=(
            f"{function}({shown}) raises {expected['raised']}"
            if expected and "raised" in expected
            else f"{function}({shown}) must not raise"
            + (f" and returns {json.dumps(expected['returned'])[:200]}" if expected else "")
        ),
        command=regression_command("python", path),
    )
