"""Guards that need the failing Python statement split before they fit.

``x = q.one()`` becomes ``x = q.one_or_none()`` followed by ``if x is None: <exit>``;
``x = f()[0]`` hoists ``f()`` into ``x_candidates`` and checks its length before reading the item.
"""

from __future__ import annotations

import ast

from medic_contracts import FixStrategy

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .exits import ExitContext, early_exit, exit_context
from .source import Source, add_import, constant_index, parses, replace, statement_at, walk_no_nested

__all__ = ["statement_rewrites"]


def _one_or_none(
    text: str, stmt: ast.Assign, *, target: str, ctx: ExitContext, facts: FailureFacts, path: str
) -> TemplateEdit | None:
    """``.one()`` / ``.scalar_one()`` → ``*_or_none()`` and a guard on the row after the statement."""
    src = Source(text)
    indent = src.indent_of(stmt.lineno)
    step = "    " if "\t" not in indent else "\t"
    for node in ast.walk(stmt.value):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("one", "scalar_one"):
            exit_found = early_exit(ctx, ast.Name(id=target), "none", facts, Source(target), indent=indent + step)
            if exit_found is None:
                return None
            exit_stmt, import_line = exit_found
            seg = src.segment(node)
            new_call = seg[: seg.rfind(node.func.attr)] + node.func.attr + "_or_none()"
            after = src.offset((stmt.end_lineno or stmt.lineno) + 1, 0)
            guard = f"{indent}if {target} is None:\n{indent}{step}{exit_stmt}\n"
            new_text = replace(text[:after] + guard + text[after:], src, [(node, new_call)])
            if import_line:
                new_text = add_import(new_text, import_line)
            return TemplateEdit(
                path=path,
                new_text=new_text,
                strategy=FixStrategy.NULL_GUARD,
                description=f"null guard: {node.func.attr}_or_none() and `if {target} is None: {exit_stmt}`",
                guarded=target,
            )
    return None


def _from_call(node: ast.expr) -> bool:
    """A value read from a call's result: ``f(x)``, ``f(x)["pings"]``, ``f(x).pings`` (not safe to evaluate twice)."""
    if isinstance(node, ast.Call):
        return True
    if isinstance(node, ast.Attribute):
        return _from_call(node.value)
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and _from_call(node.value)
    return False


def _indexed_call(stmt: ast.stmt) -> ast.Subscript | None:
    """The first ``f(...)[k]`` or ``f(...)["key"][k]`` (``k`` a literal) the statement reads, outside nested scopes."""
    found = [
        node
        for node in walk_no_nested(stmt)
        if isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and _from_call(node.value)
        and constant_index(node.slice) is not None
    ]
    return min(found, key=lambda n: (n.lineno, n.col_offset), default=None)


def _hoisted_name(sub: ast.Subscript, target: str | None, taken: set[str]) -> str:
    value = sub.value
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant) and str(value.slice.value).isidentifier():
        base = str(value.slice.value)  # vehicle(id)["pings"][-1]: the pings
    elif isinstance(value, ast.Attribute):
        base = value.attr
    else:
        func = value.func if isinstance(value, ast.Call) else None
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "items")
        base = f"{target}_candidates" if target else f"{name}_found"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _hoisted_index(
    text: str, stmt: ast.stmt, *, target: str | None, ctx: ExitContext, facts: FailureFacts, path: str
) -> TemplateEdit | None:
    """``x = f()[k]`` → ``x_candidates = f()``, a length guard, then ``x = x_candidates[k]`` (``f()["key"][k]`` hoists
    ``f()["key"]``; any statement reading
    ``f()[k]`` the same way: the call is hoisted above it, guarded, and read from its result)."""
    sub = _indexed_call(stmt)
    if sub is None:
        return None
    k = constant_index(sub.slice)
    assert k is not None
    src = Source(text)
    indent = src.indent_of(stmt.lineno)
    step = "    " if "\t" not in indent else "\t"
    taken = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
    hoisted = _hoisted_name(sub, target, taken)
    condition = f"len({hoisted}) <= {k}" if k >= 0 else f"len({hoisted}) < {-k}"
    entity = target or hoisted.removesuffix("_found")
    exit_found = early_exit(ctx, ast.Name(id=entity), "none", facts, Source(entity), indent=indent + step)
    if exit_found is None:
        return None
    exit_stmt, import_line = exit_found
    rest = replace(text, src, [(sub, f"{hoisted}[{k}]")])
    start = src.offset(stmt.lineno, 0)
    block = f"{indent}{hoisted} = {src.segment(sub.value)}\n{indent}if {condition}:\n{indent}{step}{exit_stmt}\n"
    new_text = rest[:start] + block + rest[start:]
    if import_line:
        new_text = add_import(new_text, import_line)
    return TemplateEdit(
        path=path,
        new_text=new_text,
        strategy=FixStrategy.BOUNDS_GUARD,
        description=f"bounds guard: `if {condition}: {exit_stmt}` before reading item {k}",
        guarded=hoisted,
    )


def statement_rewrites(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """Guards that need the failing statement split: ``.one()`` → ``.one_or_none()`` + guard, ``f(x)[0]`` hoisted."""
    tree = ast.parse(text)
    found = statement_at(tree, line)
    if found is None:
        return []
    stmt, parents = found
    src = Source(text)
    if not src.line_starts_statement(stmt) or isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []
    assign = isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
    target = stmt.targets[0].id if assign else None  # type: ignore[attr-defined]
    ctx = exit_context([*parents, stmt], tree, text)
    out: list[TemplateEdit | None] = []
    if facts.kind is FailureKind.NO_ROW and assign and target:
        assert isinstance(stmt, ast.Assign)
        out.append(_one_or_none(text, stmt, target=target, ctx=ctx, facts=facts, path=path))
    if facts.kind is FailureKind.OUT_OF_BOUNDS and isinstance(stmt, ast.Assign | ast.Return | ast.Expr | ast.AnnAssign):
        out.append(_hoisted_index(text, stmt, target=target, ctx=ctx, facts=facts, path=path))
    return [edit for edit in out if edit is not None and parses(edit.new_text)]
