"""Restoring a callee's contract: the function as it was before the commit that made it return nothing.

Only the function is put back (its decorators, signature and body), not the commit's other changes to the file:
a commit that changed a helper's contract often also added something the rest of the code now uses.
"""

from __future__ import annotations

import ast

__all__ = ["restore_function"]


def _span(text: str, name: str) -> tuple[int, int] | None:
    """(first, last) 1-based lines of the one function or method ``name`` in Python ``text``, decorators included."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name and node.end_lineno is not None
    ]
    if len(found) != 1:
        return None  # absent, or ambiguous (overloads, same-named methods): nothing is restored
    node = found[0]
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first, node.end_lineno or node.lineno


def restore_function(current: str, previous: str, name: str, *, path: str) -> str | None:
    """``current`` with the function ``name`` replaced by its text in ``previous``; None when either lacks exactly
    one such function, the file is not Python, or nothing would change."""
    if not path.endswith(".py") or not name.isidentifier():
        return None
    now, before = _span(current, name), _span(previous, name)
    if now is None or before is None:
        return None
    lines, old = current.splitlines(keepends=True), previous.splitlines(keepends=True)
    block = old[before[0] - 1 : before[1]]
    if block and not block[-1].endswith("\n"):
        block[-1] += "\n"
    restored = "".join(lines[: now[0] - 1] + block + lines[now[1] :])
    return restored if restored != current else None
