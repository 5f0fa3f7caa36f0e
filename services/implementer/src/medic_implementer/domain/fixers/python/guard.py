"""The guard with an early exit (after SapFix), inserted before the failing Python statement.

The guarded expression is picked from the statement by the shape of the fault: the attribute read
from ``None``, the missing key, the out-of-range index, the zero divisor, the empty iterable.
"""

from __future__ import annotations

import ast

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from ..fault import STRATEGY, is_hinted
from .conventions import optional_key
from .culprit import none_sites, operation_of
from .exits import early_exit, exit_context
from .source import Source, add_import, constant_index, function_of, header_nodes, parses, pure, statement_at, walk_no_nested

__all__ = ["exit_guards"]

_EMPTY_CALLS = {"max", "min", "mean", "median", "mode", "choice", "fmean", "stdev", "variance", "reduce"}


def _ordered(nodes: list[ast.expr], facts: FailureFacts, src: Source, *, keep_order: bool) -> list[ast.expr]:
    """The hinted expression first, then the finder's order (``keep_order``: most likely first) or source order."""
    rest = nodes if keep_order else sorted(nodes, key=lambda n: (n.lineno, n.col_offset))
    if facts.hinted_expression:
        hinted = [n for n in nodes if is_hinted(src.segment(n), facts.hinted_expression)]
        rest = hinted + [n for n in rest if n not in hinted]
    return rest


def _candidates(stmt: ast.stmt, facts: FailureFacts) -> list[tuple[ast.expr, str]]:
    """(node, role) pairs inside the statement's header that the fault may be about."""
    found: list[tuple[ast.expr, str]] = []
    if facts.kind is FailureKind.NONE_VALUE:
        sites = none_sites([n for root in header_nodes(stmt) for n in walk_no_nested(root)], facts)
        if sites is not None:  # the exception text names what met None: guard exactly that
            return [(expr, "none") for expr, _operation in sites]
    for root in header_nodes(stmt):
        for node in walk_no_nested(root):
            if facts.kind is FailureKind.NONE_VALUE:
                if isinstance(node, ast.Attribute) and pure(node.value):
                    if facts.property_name in (None, node.attr):
                        found.append((node.value, "none"))
                elif isinstance(node, ast.Subscript) and pure(node.value) and facts.property_name is None:
                    found.append((node.value, "none"))
            elif facts.kind is FailureKind.MISSING_KEY and isinstance(node, ast.Subscript) and pure(node.value):
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if facts.missing_key in (None, key.value):
                        found.append((node, "key"))
                elif isinstance(key, ast.Name | ast.Attribute):
                    found.append((node, "key"))
            elif facts.kind is FailureKind.OUT_OF_BOUNDS and isinstance(node, ast.Subscript) and pure(node.value):
                if isinstance(node.slice, ast.Constant | ast.Name | ast.UnaryOp) and not isinstance(node.slice, ast.Slice):
                    found.append((node, "index"))
            elif facts.kind is FailureKind.DIVIDE_BY_ZERO and isinstance(node, ast.BinOp):
                if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and not isinstance(node.right, ast.Constant):
                    found.append((node, "divide"))
            elif facts.kind is FailureKind.EMPTY_ITERABLE and isinstance(node, ast.Call) and node.args:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                iterable = node.args[-1] if name == "reduce" else node.args[0]
                if name in _EMPTY_CALLS and pure(iterable) and not any(k.arg == "default" for k in node.keywords):
                    found.append((iterable, "empty"))
    # Prefer the key whose literal matches the reported key, then the first in source order.
    if facts.kind is FailureKind.MISSING_KEY and facts.missing_key:
        exact = [
            c
            for c in found
            if isinstance(c[0], ast.Subscript) and isinstance(c[0].slice, ast.Constant) and c[0].slice.value == facts.missing_key
        ]
        if exact:
            return exact
    return found


def _key_literal(node: ast.Subscript) -> str | None:
    return node.slice.value if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) else None


def _condition(node: ast.expr, role: str, src: Source) -> str:
    seg = src.segment(node)
    if role == "none":
        return f"{seg} is None"
    if role == "empty":
        return f"not {seg}"
    assert isinstance(node, ast.Subscript)
    base, key = src.segment(node.value), src.segment(node.slice)
    if role == "key":
        return f"{key} not in {base}"
    # index: constants become a length check, names a range check
    k = constant_index(node.slice)
    if k is not None:
        return f"len({base}) <= {k}" if k >= 0 else f"len({base}) < {-k}"
    return f"not -len({base}) <= {key} < len({base})"


def exit_guards(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """``if <fault>: <early exit>`` before the statement at ``line`` (a zero divisor is guarded in place), for the
    likeliest expressions of the fault (the exception text and frame decide; at most two tried)."""
    tree = ast.parse(text)
    found = statement_at(tree, line)
    if found is None:
        return []
    stmt, parents = found
    src = Source(text)
    if not src.line_starts_statement(stmt):
        return []  # e.g. "if x: y.name" on one line: no room for a guard before it
    candidates = _candidates(stmt, facts)
    fn = function_of([*parents, stmt])
    candidates = [
        (node, role)
        for node, role in candidates
        if not (
            role == "key"
            and isinstance(node, ast.Subscript)
            and optional_key(fn, src.segment(node.value), _key_literal(node), text)
        )
    ]  # a key the code's own validation leaves optional gets no error exit
    sites = facts.kind is FailureKind.NONE_VALUE and operation_of(facts.message) is not None
    nodes = _ordered([c[0] for c in candidates], facts, src, keep_order=sites)
    out: list[TemplateEdit] = []
    for node in nodes[:2]:
        role = next(r for n, r in candidates if n is node)
        edit = _guard_edit(text, tree, stmt, parents=parents, node=node, role=role, facts=facts, path=path)
        if edit is not None:
            out.append(edit)
        if not sites:
            break  # one guard: the first expression in source order (or the hinted one)
    return out


def _guard_edit(
    text: str,
    tree: ast.Module,
    stmt: ast.stmt,
    *,
    parents: list[ast.AST],
    node: ast.expr,
    role: str,
    facts: FailureFacts,
    path: str,
) -> TemplateEdit | None:
    src = Source(text)
    strategy = STRATEGY[facts.kind]
    if role == "divide":
        assert isinstance(node, ast.BinOp)
        start = src.offset(node.lineno, node.col_offset)
        end = src.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
        divisor = src.segment(node.right)
        replacement = f"({text[start:end]} if {divisor} else 0)"
        new_text = text[:start] + replacement + text[end:]
        description = f"zero guard: {src.segment(node)} evaluates to 0 when {divisor} is 0"
        guarded = divisor
    else:
        ctx = exit_context([*parents, stmt], tree, text)
        indent = src.indent_of(stmt.lineno)
        step = "    " if "\t" not in indent else "\t"
        exit_found = early_exit(ctx, node, role, facts, src, indent=indent + step)
        if exit_found is None:
            return None  # no exit the code's conventions ground: abstain
        exit_stmt, import_line = exit_found
        condition = _condition(node, role, src)
        guard = f"{indent}if {condition}:\n{indent}{step}{exit_stmt}\n"
        insert_at = src.offset(stmt.lineno, 0)
        new_text = text[:insert_at] + guard + text[insert_at:]
        if import_line:
            new_text = add_import(new_text, import_line)
        guarded = src.segment(node)
        one_line = " ".join(part.strip() for part in exit_stmt.splitlines())
        description = f"{strategy.value.replace('_', ' ')}: `if {condition}: {one_line}` before line {stmt.lineno}"
    if not parses(new_text):
        return None
    return TemplateEdit(path=path, new_text=new_text, strategy=strategy, description=description, guarded=guarded)
