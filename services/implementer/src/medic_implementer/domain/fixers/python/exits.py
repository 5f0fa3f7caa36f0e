"""The early exit a Python guard takes, suited to where the failing statement sits.

``raise HTTPException(404, ...)`` in a FastAPI route, ``abort(404, ...)`` in a Flask view,
``continue`` inside a loop over the guarded value, ``return None`` elsewhere.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from ...failure import FailureFacts, entity_name
from ..fault import not_found_message
from .source import Source

__all__ = ["ExitContext", "early_exit", "exit_context"]

_HTTP_DECORATOR = re.compile(r"\.(get|post|put|patch|delete|head|options|route|api_route|websocket)$")


@dataclass(frozen=True, slots=True)
class ExitContext:
    """Where the failing statement sits: its function, the web framework, the loop variables around it."""

    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    framework: str | None  # "fastapi" | "flask" | None
    loop_names: frozenset[str]


def _framework(tree: ast.Module) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            if root in ("fastapi", "starlette"):
                return "fastapi"
            if root == "flask":
                return "flask"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("fastapi", "flask"):
                    return alias.name.split(".")[0]
    return None


def _is_handler(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and _HTTP_DECORATOR.search("." + target.attr):
            return True
    return False


def exit_context(parents: list[ast.AST], tree: ast.Module) -> ExitContext:
    """The context of a statement, from its ancestors (outermost first) and the module's imports."""
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    loops: set[str] = set()
    for node in parents:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function, loops = node, set()
        elif isinstance(node, ast.For | ast.AsyncFor):
            loops.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return ExitContext(function=function, framework=_framework(tree), loop_names=frozenset(loops))


def early_exit(ctx: ExitContext, node: ast.expr, role: str, facts: FailureFacts, src: Source) -> tuple[str, str | None]:
    """(exit statement, import line it needs)."""
    guarded = node.value if isinstance(node, ast.Subscript) and role in ("key", "index") else node
    name = entity_name(src.segment(guarded))
    if role == "key":
        status = facts.exit_status or 400
        key = node.slice if isinstance(node, ast.Subscript) else node
        key_text = str(key.value) if isinstance(key, ast.Constant) else src.segment(key)
        message = facts.exit_message or f"Missing {key_text}"
    else:
        status = facts.exit_status or 404
        message = not_found_message(name, role, facts)
    if ctx.function is not None and _is_handler(ctx.function):
        if ctx.framework == "fastapi":
            return f"raise HTTPException(status_code={status}, detail={json.dumps(message)})", "from fastapi import HTTPException"
        if ctx.framework == "flask":
            return f"abort({status}, description={json.dumps(message)})", "from flask import abort"
    names = {n.id for n in ast.walk(guarded) if isinstance(n, ast.Name)}
    if names & ctx.loop_names:
        return "continue", None
    del status, message  # outside a handler the caller decides what a missing value means
    return "return None", None
