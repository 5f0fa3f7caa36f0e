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
from .source import Source, add_import, parses, pure, replace, statement_at

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


def _hoisted_index(
    text: str, stmt: ast.Assign, *, target: str, ctx: ExitContext, facts: FailureFacts, path: str
) -> TemplateEdit | None:
    """``x = f()[k]`` → ``x_candidates = f()``, a length guard, then ``x = x_candidates[k]``."""
    sub = stmt.value
    assert isinstance(sub, ast.Subscript)
    if not (isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, int)):
        return None
    src = Source(text)
    indent = src.indent_of(stmt.lineno)
    step = "    " if "\t" not in indent else "\t"
    hoisted = f"{target}_candidates"
    k = sub.slice.value
    condition = f"len({hoisted}) <= {k}" if k >= 0 else f"len({hoisted}) < {-k}"
    exit_found = early_exit(ctx, ast.Name(id=target), "none", facts, Source(target), indent=indent + step)
    if exit_found is None:
        return None
    exit_stmt, import_line = exit_found
    block = (
        f"{indent}{hoisted} = {src.segment(sub.value)}\n"
        f"{indent}if {condition}:\n{indent}{step}{exit_stmt}\n"
        f"{indent}{target} = {hoisted}[{k}]\n"
    )
    start = src.offset(stmt.lineno, 0)
    end = src.offset((stmt.end_lineno or stmt.lineno) + 1, 0) if (stmt.end_lineno or stmt.lineno) < len(src.lines) else len(text)
    new_text = text[:start] + block + text[end:]
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
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return []
    if not src.line_starts_statement(stmt):
        return []
    target = stmt.targets[0].id
    ctx = exit_context([*parents, stmt], tree, text)
    out: list[TemplateEdit | None] = []
    if facts.kind is FailureKind.NO_ROW:
        out.append(_one_or_none(text, stmt, target=target, ctx=ctx, facts=facts, path=path))
    if facts.kind is FailureKind.OUT_OF_BOUNDS and isinstance(stmt.value, ast.Subscript) and not pure(stmt.value.value):
        out.append(_hoisted_index(text, stmt, target=target, ctx=ctx, facts=facts, path=path))
    return [edit for edit in out if edit is not None and parses(edit.new_text)]
