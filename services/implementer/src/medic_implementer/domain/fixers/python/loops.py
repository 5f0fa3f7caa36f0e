"""A loop's own way of skipping an item it cannot use, copied for an item that crashed the loop.

An import or batch loop that already handles bad items records them and moves on::

    if amount <= 0:
        rejected.append({"line": number, "reason": "amount must be positive"})
        continue

(or the same in an ``except ValueError:`` around a conversion).
When the value a guard is for comes from the loop's item (the loop variable, or a name the loop body assigns,
``m = PATTERN.match(line)``), the guard's exit is that skip. When the guard sits inside a ``try`` of the loop
whose handler for ``ValueError`` (or the module's own exception class) records the item and continues, the exit
raises that exception with this item's reason, so the loop's own handler records it exactly as it records the
others (its record may read the exception: ``errors.append(f"line {number}: {exc}")``). Otherwise the exit is a
copy of the skip: the same recording statements with this item's reason put in place of the sibling's message,
then ``continue``. The whole batch no longer fails for one
item, and the item is reported the way the code reports the others. Only a skip that records something is
copied (a bare ``if not line.strip(): continue`` drops blank input silently; nothing says an unusable item may
be dropped that way), and only when every name the copy reads is bound before the guard.
"""

from __future__ import annotations

import ast
import json
from typing import TYPE_CHECKING

from .conventions import message_in, quoted_like, reindent
from .source import Source, walk_no_nested

if TYPE_CHECKING:
    from .exits import ExitContext

__all__ = ["loop_skip"]

_Loop = ast.For | ast.AsyncFor | ast.While
_PATTERN_CALLS = ("match", "fullmatch", "search")


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _assignment(loop: _Loop, name: str) -> ast.Assign | ast.AnnAssign | None:
    """The loop body's (first) assignment of ``name``."""
    for node in walk_no_nested(loop):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node
    return None


def _records(stmt: ast.stmt) -> bool:
    """A statement that records an item: a call (``rejected.append(...)``, ``log.warning(...)``) or a count."""
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)) or isinstance(stmt, ast.AugAssign)


def _records_then_continues(body: list[ast.stmt]) -> bool:
    """``<record>; ...; continue``: at least one recording statement, then ``continue``."""
    *records, last = body or [ast.Pass()]
    return bool(records) and isinstance(last, ast.Continue) and all(_records(s) for s in records)


def _reads(stmts: list[ast.stmt], name: str | None) -> bool:
    return name is not None and any(isinstance(n, ast.Name) and n.id == name for s in stmts for n in ast.walk(s))


def _recording_skips(loop: _Loop) -> list[ast.If | ast.ExceptHandler]:
    """The loop's skips that record the item, in source order (not inside a nested loop or function):
    ``if ...: <record>; continue`` and ``except ...: <record>; continue`` (one that does not read the exception,
    which a copy placed elsewhere would not have)."""
    nested = {id(n) for inner in ast.walk(loop) if inner is not loop and isinstance(inner, _Loop) for n in ast.walk(inner)}
    found: list[ast.If | ast.ExceptHandler] = []
    for node in walk_no_nested(loop):
        if not isinstance(node, ast.If | ast.ExceptHandler) or id(node) in nested or not _records_then_continues(node.body):
            continue
        if isinstance(node, ast.If) and node.orelse:
            continue
        if isinstance(node, ast.ExceptHandler) and _reads(node.body[:-1], node.name):
            continue
        found.append(node)
    return sorted(found, key=lambda n: n.lineno)


def _bound_before(stmts: list[ast.stmt], function: ast.AST | None, line: int) -> bool:
    """True when every local name the statements read is bound before ``line`` (a parameter, or assigned above)."""
    if function is None:
        return False
    bound_at: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound_at[node.id] = min(bound_at.get(node.id, node.lineno), node.lineno)
        elif isinstance(node, ast.arg):
            bound_at[node.arg] = 0
    read = {n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return all(bound_at.get(name, 0) < line for name in read)  # a name never bound here is a module name


def _reason(loop: _Loop, root: str, message: str) -> str:
    """Why the item is skipped: ``line does not match the expected format`` for a failed regex match of ``line``,
    else the guard's own message."""
    assign = _assignment(loop, root)
    value = assign.value if assign is not None else None
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in _PATTERN_CALLS
        and value.args
        and (matched := _root_name(value.args[-1])) is not None
    ):
        return f"{matched} does not match the expected format"  # ``PATTERN.match(line.strip())``: ``line``
    return message


def _copy(stmt: ast.stmt, text: str, reason: str, indent: str) -> str | None:
    lines = text.splitlines(keepends=True)
    segment = ast.get_source_segment(text, stmt)
    if segment is None:
        return None
    msg = message_in(stmt.value) if isinstance(stmt, ast.Expr) else None
    if msg is not None:
        old = ast.get_source_segment(text, msg) or '"'
        literal = msg.value if isinstance(msg, ast.Constant) and isinstance(msg.value, str) else ""
        if literal[:1].isupper():
            reason = reason[:1].upper() + reason[1:]  # the sibling's case style
        start = _offset_in(text, stmt, msg)
        segment = segment[:start] + quoted_like(reason, old) + segment[start + len(old) :]
    return reindent(segment, lines[stmt.lineno - 1], indent)


def _offset_in(text: str, outer: ast.stmt, inner: ast.expr) -> int:
    src = Source(text)
    return src.offset(inner.lineno, inner.col_offset) - src.offset(outer.lineno, outer.col_offset)


def _own_error_classes(module: ast.Module | None) -> set[str]:
    """The module's exception classes a message alone constructs (a subclass of Exception/ValueError, no ``__init__``)."""
    return {
        node.name
        for node in (module.body if module is not None else ())
        if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id in ("Exception", "ValueError") for b in node.bases)
        and not any(isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body)
    }


def _raised_to_handler(ctx: ExitContext, reason: str) -> str | None:
    """``raise ValueError(reason)`` when the statement is in the body of a ``try`` of the loop whose handler for
    that exception records the item and continues; None otherwise."""
    if ctx.trying is None:
        return None
    own = _own_error_classes(ctx.module)
    for handler in ctx.trying.handlers:
        if not _records_then_continues(handler.body) or handler.type is None:  # it may read the exception
            continue
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names = [t.id for t in types if isinstance(t, ast.Name)]
        error = "ValueError" if "ValueError" in names else next((n for n in names if n in own), None)
        if error is not None:
            return f"raise {error}({json.dumps(reason)})"
    return None


def loop_skip(ctx: ExitContext, guarded: ast.expr, message: str, *, indent: str) -> str | None:
    """The loop's own way of skipping a bad item, for the crashing item with ``message``: a raise its enclosing
    handler records, else a copy of its recording skip (statements joined for ``indent``); None when the guarded
    value is not the loop's item or the loop has no such skip."""
    loop, text, root = ctx.loop, ctx.text, _root_name(guarded)
    if loop is None or not text or root is None:
        return None
    if root not in ctx.loop_names and _assignment(loop, root) is None:
        return None
    reason = _reason(loop, root, message)
    raised = _raised_to_handler(ctx, reason)
    if raised is not None:
        return raised
    # The first skip whose recording reads only names bound before the guard (a later one may record a value
    # the crashing statement itself was about to compute).
    skip = next((s for s in _recording_skips(loop) if _bound_before(s.body[:-1], ctx.function, guarded.lineno)), None)
    if skip is None:
        return None
    records = skip.body[:-1]
    copies = [_copy(s, text, reason, indent) for s in records]
    if any(c is None for c in copies):
        return None
    return f"\n{indent}".join([*(c for c in copies if c is not None), "continue"])
