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


def _module_names(tree: ast.Module) -> set[str]:
    """Names bound at module level (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _shape(node: ast.AST, params: set[str]) -> str:
    """The expression with its function's parameters as placeholders (``vehicle(vehicle_id)["pings"]`` in two
    handlers that both take ``vehicle_id`` reads the same)."""
    copy = ast.parse(ast.unparse(node), mode="eval").body
    for n in ast.walk(copy):
        if isinstance(n, ast.Name) and n.id in params:
            n.id = "_param_"
    return ast.dump(copy)


def _params(fn: ast.AST | None) -> set[str]:
    if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
        return set()
    return {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}


def _sibling_guard(tree: ast.Module, value: ast.expr, current: ast.AST | None, src: Source) -> tuple[str, str, str] | None:
    """(name, test, exit) where another function of the module binds the same value and guards it being empty right
    after: ``pings = vehicle(vehicle_id)["pings"]`` then ``if not pings: raise HTTPException(404, "no position yet")``."""
    wanted = _shape(value, _params(current))
    for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n is not current):
        params = _params(fn)
        for node, guard in zip(fn.body, fn.body[1:], strict=False):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            if _shape(node.value, params) != wanted or not isinstance(guard, ast.If) or guard.orelse or len(guard.body) != 1:
                continue
            name, exit_stmt = node.targets[0].id, guard.body[0]
            if isinstance(exit_stmt, ast.Raise | ast.Return) and _tests_empty(guard.test, name):
                text = ast.get_source_segment(src.text, exit_stmt)
                if text is not None and "\n" not in text:
                    return name, src.segment(guard.test), text
    return None


def _tests_empty(test: ast.expr, name: str) -> bool:
    """``not name``, ``len(name) == 0``, ``len(name) < 1``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id == name
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Call):
        call = test.left
        is_len = isinstance(call.func, ast.Name) and call.func.id == "len" and len(call.args) == 1
        arg = call.args[0] if is_len else None
        right = test.comparators[0]
        small = isinstance(right, ast.Constant) and (
            (isinstance(test.ops[0], ast.Eq) and right.value == 0) or (isinstance(test.ops[0], ast.Lt) and right.value == 1)
        )
        return is_len and isinstance(arg, ast.Name) and arg.id == name and small
    return False


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
    tree = ast.parse(text)
    scope = ctx.function if ctx.function is not None else tree
    taken = {n.id for n in ast.walk(scope) if isinstance(n, ast.Name)} | _module_names(tree)
    sibling = _sibling_guard(tree, sub.value, ctx.function, src) if k in (-1, 0) else None
    if sibling is not None and sibling[0] not in taken:
        # The module already guards this very value elsewhere: the same name, the same test, the same exit.
        hoisted, condition, exit_stmt, import_line = sibling[0], sibling[1], sibling[2], None
    else:
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
