"""Template fixes for Python (after SapFix): guards inserted before the failing statement.

The failing statement is found with :mod:`ast` from the diagnosed line; the guarded expression is
picked from that statement by the shape of the fault (the attribute read from ``None``, the missing
key, the out-of-range index, the zero divisor, the empty iterable). The early exit suits the
context: ``raise HTTPException(404, ...)`` in a FastAPI route, ``abort(404, ...)`` in a Flask
view, ``continue`` inside a loop over the guarded value, ``return None`` elsewhere. Edits are
made on the source text (formatting and comments stay) and the result must parse.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from medic_contracts import FixStrategy

from ..failure import FailureFacts, FailureKind, entity_name
from .edits import TemplateEdit

__all__ = ["python_template_fixes"]

_HTTP_DECORATOR = re.compile(r"\.(get|post|put|patch|delete|head|options|route|api_route|websocket)$")
_EMPTY_CALLS = {"max", "min", "mean", "median", "mode", "choice", "fmean", "stdev", "variance", "reduce"}
_STRATEGY = {
    FailureKind.NONE_VALUE: FixStrategy.NULL_GUARD,
    FailureKind.MISSING_KEY: FixStrategy.MISSING_KEY_GUARD,
    FailureKind.OUT_OF_BOUNDS: FixStrategy.BOUNDS_GUARD,
    FailureKind.DIVIDE_BY_ZERO: FixStrategy.ZERO_GUARD,
    FailureKind.EMPTY_ITERABLE: FixStrategy.EMPTY_ITERABLE_GUARD,
    FailureKind.NO_ROW: FixStrategy.NULL_GUARD,
    FailureKind.WRONG_TYPE: FixStrategy.NULL_GUARD,
}


def _pure(node: ast.expr) -> bool:
    """True for expressions safe to evaluate twice: names, attribute chains, constant/name subscripts."""
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _pure(node.value)
    if isinstance(node, ast.Subscript):
        return _pure(node.value) and isinstance(node.slice, ast.Constant | ast.Name | ast.UnaryOp)
    return False


@dataclass(frozen=True, slots=True)
class _Context:
    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    framework: str | None  # "fastapi" | "flask" | None
    loop_names: frozenset[str]


def _walk_no_nested(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk that does not enter nested functions, lambdas or comprehensions (their names differ)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef | ast.ListComp | ast.GeneratorExp):
                continue
            stack.append(child)


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


def _statement_at(tree: ast.Module, line: int) -> tuple[ast.stmt, list[ast.AST]] | None:
    """The innermost statement whose own line span holds ``line``, with its ancestors (outermost first)."""
    best: tuple[ast.stmt, list[ast.AST]] | None = None

    def visit(node: ast.AST, parents: list[ast.AST]) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                end = child.end_lineno or child.lineno
                if child.lineno <= line <= end:
                    best = (child, [*parents, node])
                    visit(child, [*parents, node])
            elif not isinstance(child, ast.expr):
                visit(child, [*parents, node])

    visit(tree, [])
    return best


def _header_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """The parts of a statement evaluated before its body (a compound statement's header)."""
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return [stmt.iter]
    if isinstance(stmt, ast.With | ast.AsyncWith):
        return [item.context_expr for item in stmt.items]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try):
        return []
    return [stmt]


class _Source:
    """Byte-exact positions in a source text (ast columns are UTF-8 byte offsets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)

    def offset(self, line: int, col: int) -> int:
        head = "".join(self.lines[: line - 1])
        return len(head) + len(self.lines[line - 1].encode()[:col].decode("utf-8", "replace"))

    def segment(self, node: ast.expr) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def indent_of(self, line: int) -> str:
        raw = self.lines[line - 1]
        return raw[: len(raw) - len(raw.lstrip())]

    def line_starts_statement(self, stmt: ast.stmt) -> bool:
        raw = self.lines[stmt.lineno - 1].encode()[: stmt.col_offset].decode("utf-8", "replace")
        return raw.strip() == ""


def _pick(nodes: list[ast.expr], facts: FailureFacts, src: _Source) -> ast.expr | None:
    if not nodes:
        return None
    if facts.hinted_expression:
        hinted = re.sub(r"\s+", "", facts.hinted_expression)
        for node in nodes:
            if re.sub(r"\s+", "", src.segment(node)) == hinted:
                return node
    return min(nodes, key=lambda n: (n.lineno, n.col_offset))


def _candidates(stmt: ast.stmt, facts: FailureFacts, src: _Source) -> list[tuple[ast.expr, str]]:
    """(node, role) pairs inside the statement's header that the fault may be about."""
    found: list[tuple[ast.expr, str]] = []
    for root in _header_nodes(stmt):
        for node in _walk_no_nested(root):
            if facts.kind is FailureKind.NONE_VALUE:
                if isinstance(node, ast.Attribute) and _pure(node.value):
                    if facts.property_name in (None, node.attr):
                        found.append((node.value, "none"))
                elif isinstance(node, ast.Subscript) and _pure(node.value) and facts.property_name is None:
                    found.append((node.value, "none"))
            elif facts.kind is FailureKind.MISSING_KEY and isinstance(node, ast.Subscript) and _pure(node.value):
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    if facts.missing_key in (None, key.value):
                        found.append((node, "key"))
                elif isinstance(key, ast.Name | ast.Attribute):
                    found.append((node, "key"))
            elif facts.kind is FailureKind.OUT_OF_BOUNDS and isinstance(node, ast.Subscript) and _pure(node.value):
                if isinstance(node.slice, ast.Constant | ast.Name | ast.UnaryOp) and not isinstance(node.slice, ast.Slice):
                    found.append((node, "index"))
            elif facts.kind is FailureKind.DIVIDE_BY_ZERO and isinstance(node, ast.BinOp):
                if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and not isinstance(node.right, ast.Constant):
                    found.append((node, "divide"))
            elif facts.kind is FailureKind.EMPTY_ITERABLE and isinstance(node, ast.Call) and node.args:
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                iterable = node.args[-1] if name == "reduce" else node.args[0]
                if name in _EMPTY_CALLS and _pure(iterable) and not any(k.arg == "default" for k in node.keywords):
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


def _condition(node: ast.expr, role: str, src: _Source) -> str:
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
    if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        k = node.slice.value
        return f"len({base}) <= {k}" if k >= 0 else f"len({base}) < {-k}"
    return f"not -len({base}) <= {key} < len({base})"


def _exit(ctx: _Context, node: ast.expr, role: str, facts: FailureFacts, src: _Source) -> tuple[str, str | None]:
    """(exit statement, import line it needs)."""
    guarded = node.value if isinstance(node, ast.Subscript) and role in ("key", "index") else node
    name = entity_name(src.segment(guarded))
    if role == "key":
        status = facts.exit_status or 400
        key = node.slice if isinstance(node, ast.Subscript) else node
        key_text = str(key.value) if isinstance(key, ast.Constant) else src.segment(key)
        message = facts.exit_message or f"Missing {key_text}"
    elif role in ("index", "empty"):
        status = facts.exit_status or 404
        message = (
            facts.exit_message or f"{name} not found" if role == "index" else facts.exit_message or f"No {name.lower()} found"
        )
    else:
        status = facts.exit_status or 404
        message = facts.exit_message or f"{name} not found"
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


def _context(parents: list[ast.AST], tree: ast.Module) -> _Context:
    function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    loops: set[str] = set()
    for node in parents:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function, loops = node, set()
        elif isinstance(node, ast.For | ast.AsyncFor):
            loops.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
    return _Context(function=function, framework=_framework(tree), loop_names=frozenset(loops))


def _add_import(text: str, import_line: str) -> str:
    module, _, name = import_line.removeprefix("from ").partition(" import ")
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == module and any(a.name == name for a in node.names):
            return text
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == module and node.lineno == node.end_lineno:
            raw = lines[node.lineno - 1]
            if "(" not in raw and "#" not in raw and "\\" not in raw:
                lines[node.lineno - 1] = raw.rstrip("\r\n") + f", {name}" + raw[len(raw.rstrip("\r\n")) :]
                return "".join(lines)
    last_import = 0
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            last_import = node.end_lineno or node.lineno
        elif last_import or not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            break
    lines.insert(last_import, import_line + "\n")
    return "".join(lines)


def _replace(text: str, src: _Source, edits: list[tuple[ast.AST, str]]) -> str:
    """Apply (node → replacement text) edits, last first so earlier offsets stay valid."""
    spans = []
    for node, new in edits:
        start = src.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = src.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]
        spans.append((start, end, new))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _function_of(parents: list[ast.AST]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next((p for p in reversed(parents) if isinstance(p, ast.FunctionDef | ast.AsyncFunctionDef)), None)


def _null_safe_reads(fn: ast.AST, name: str, after_line: int, src: _Source) -> list[tuple[ast.AST, str]]:
    """``name.attr`` reads from ``after_line`` on, rewritten to yield None when ``name`` is None."""
    edits: list[tuple[ast.AST, str]] = []
    taken: list[ast.AST] = []
    for node in _walk_no_nested(fn):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == name
            and isinstance(node.ctx, ast.Load)
            and node.lineno >= after_line
        ):
            taken.append(node)
    for node in taken:
        assert isinstance(node, ast.Attribute)
        edits.append((node, f"({src.segment(node)} if {name} is not None else None)"))
    return edits


def _is_primary_lookup(fn: ast.FunctionDef | ast.AsyncFunctionDef | None, name: str) -> bool:
    """True when ``name`` is assigned from a call that takes one of the function's parameters (a lookup by id)."""
    if fn is None:
        return False
    params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)} - {"self", "request", "db", "session"}
    for node in _walk_no_nested(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            for call in ast.walk(node.value):
                if isinstance(call, ast.Call) and any(
                    isinstance(n, ast.Name) and n.id in params
                    for a in (*call.args, *(k.value for k in call.keywords))
                    for n in ast.walk(a)
                ):
                    return True
    return False


def _value_variants(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """Edits that let the missing value flow on as None or empty instead of failing the request."""
    tree = ast.parse(text)
    found = _statement_at(tree, line)
    if found is None:
        return []
    stmt, parents = found
    src = _Source(text)
    fn = _function_of([*parents, stmt])
    out: list[tuple[list[tuple[ast.AST, str]], FixStrategy, str, str]] = []
    header = _header_nodes(stmt)
    nodes = [n for root in header for n in _walk_no_nested(root)]
    if facts.kind is FailureKind.MISSING_KEY:
        # payload["shipping"]["country"] → payload.get("shipping", {}).get("country")
        for node in nodes:
            if not (
                isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == facts.missing_key
            ):
                continue
            chain: list[ast.Subscript] = [node]
            parent_map = {id(c): p for p in nodes for c in ast.iter_child_nodes(p)}
            current: ast.AST = node
            while isinstance(parent_map.get(id(current)), ast.Subscript):
                parent = parent_map[id(current)]
                assert isinstance(parent, ast.Subscript)
                if parent.value is not current or not isinstance(parent.slice, ast.Constant):
                    break
                chain.append(parent)
                current = parent
            text_expr = src.segment(node.value)
            for i, sub in enumerate(chain):
                key = src.segment(sub.slice)
                text_expr += f".get({key}, {{}})" if i < len(chain) - 1 else f".get({key})"
            out.append(
                (
                    [(chain[-1], text_expr)],
                    FixStrategy.MISSING_KEY_GUARD,
                    f"missing key guard: read {facts.missing_key!r} with .get()",
                    src.segment(node),
                )
            )
            break
    if facts.kind is FailureKind.NONE_VALUE and "not iterable" in facts.message:
        for node in nodes:
            iterable: ast.expr | None = None
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None)
                in ("set", "list", "sorted", "tuple", "len", "sum", "any", "all", "dict", "frozenset")
                and node.args
            ):
                iterable = node.args[0]
            if iterable is not None and _pure(iterable):
                out.append(
                    (
                        [(iterable, f"({src.segment(iterable)} or [])")],
                        FixStrategy.NULL_GUARD,
                        f"null guard: iterate {src.segment(iterable)} or nothing",
                        src.segment(iterable),
                    )
                )
                break
        if isinstance(stmt, ast.For) and _pure(stmt.iter):
            out.append(
                (
                    [(stmt.iter, f"({src.segment(stmt.iter)} or [])")],
                    FixStrategy.NULL_GUARD,
                    "null guard: loop over nothing when None",
                    src.segment(stmt.iter),
                )
            )
    if facts.kind is FailureKind.EMPTY_ITERABLE and fn is not None:
        for node in nodes:
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("max", "min")
                and len(node.args) == 1
                and not any(k.arg == "default" for k in node.keywords)
            ):
                seg = src.segment(node)
                edits: list[tuple[ast.AST, str]] = [(node, seg[:-1].rstrip() + ", default=None)")]
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    edits += _null_safe_reads(fn, stmt.targets[0].id, (stmt.end_lineno or stmt.lineno) + 1, src)
                out.append(
                    (
                        edits,
                        FixStrategy.EMPTY_ITERABLE_GUARD,
                        f"empty iterable guard: {getattr(node.func, 'id', '')}() of nothing is None",
                        src.segment(node.args[0]),
                    )
                )
                break
    if facts.kind is FailureKind.NONE_VALUE and facts.property_name and fn is not None:
        for node in nodes:
            if isinstance(node, ast.Attribute) and node.attr == facts.property_name and isinstance(node.value, ast.Name):
                name = node.value.id
                if not _is_primary_lookup(fn, name):
                    out.append(
                        (
                            _null_safe_reads(fn, name, stmt.lineno, src),
                            FixStrategy.NULL_GUARD,
                            f"null guard: {name}.* reads are None when {name} is None",
                            name,
                        )
                    )
                break
    if facts.kind is FailureKind.WRONG_TYPE and fn is not None:
        # page = request.query_params.get("page", 1); page - 1 → page = int(request.query_params.get("page", 1))
        number = "float" if "'float'" in facts.message else "int"
        operands = [
            o for n in nodes if isinstance(n, ast.BinOp | ast.Compare) for o in ast.iter_child_nodes(n) if isinstance(o, ast.Name)
        ]
        for operand in operands:
            for node in _walk_no_nested(fn):
                if (
                    isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == operand.id for t in node.targets)
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)
                    and node.value.func.attr in ("get", "getlist", "get_json")
                ):
                    seg = src.segment(node.value)
                    out.append(
                        (
                            [(node.value, f"{number}({seg})")],
                            FixStrategy.NULL_GUARD,
                            f"type guard: {operand.id} = {number}(...)",
                            operand.id,
                        )
                    )
                    break
            if out:
                break
    edits_out: list[TemplateEdit] = []
    for edits, strategy, description, guarded in out:
        if not edits:
            continue
        new_text = _replace(text, src, edits)
        try:
            ast.parse(new_text)
        except SyntaxError:
            continue
        edits_out.append(TemplateEdit(path=path, new_text=new_text, strategy=strategy, description=description, guarded=guarded))
    return edits_out


def _statement_rewrites(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """Guards that need the failing statement split: ``.one()`` → ``.one_or_none()`` + guard, ``f(x)[0]`` hoisted."""
    tree = ast.parse(text)
    found = _statement_at(tree, line)
    if found is None:
        return []
    stmt, parents = found
    src = _Source(text)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return []
    if not src.line_starts_statement(stmt):
        return []
    target = stmt.targets[0].id
    ctx = _context([*parents, stmt], tree)
    indent = src.indent_of(stmt.lineno)
    step = "    " if "\t" not in indent else "\t"
    name_node = ast.Name(id=target)
    out: list[TemplateEdit] = []
    if facts.kind is FailureKind.NO_ROW:
        for node in ast.walk(stmt.value):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("one", "scalar_one"):
                exit_stmt, import_line = _exit(ctx, name_node, "none", facts, _Source(target))
                seg = src.segment(node)
                new_call = seg[: seg.rfind(node.func.attr)] + node.func.attr + "_or_none()"
                after = src.offset((stmt.end_lineno or stmt.lineno) + 1, 0)
                guard = f"{indent}if {target} is None:\n{indent}{step}{exit_stmt}\n"
                new_text = _replace(text[:after] + guard + text[after:], src, [(node, new_call)])
                if import_line:
                    new_text = _add_import(new_text, import_line)
                out.append(
                    TemplateEdit(
                        path=path,
                        new_text=new_text,
                        strategy=FixStrategy.NULL_GUARD,
                        description=f"null guard: {node.func.attr}_or_none() and `if {target} is None: {exit_stmt}`",
                        guarded=target,
                    )
                )
                break
    if facts.kind is FailureKind.OUT_OF_BOUNDS and isinstance(stmt.value, ast.Subscript) and not _pure(stmt.value.value):
        sub = stmt.value
        if isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, int):
            hoisted = f"{target}_candidates"
            k = sub.slice.value
            condition = f"len({hoisted}) <= {k}" if k >= 0 else f"len({hoisted}) < {-k}"
            exit_stmt, import_line = _exit(ctx, name_node, "none", facts, _Source(target))
            block = (
                f"{indent}{hoisted} = {src.segment(sub.value)}\n"
                f"{indent}if {condition}:\n{indent}{step}{exit_stmt}\n"
                f"{indent}{target} = {hoisted}[{k}]\n"
            )
            start = src.offset(stmt.lineno, 0)
            end = (
                src.offset((stmt.end_lineno or stmt.lineno) + 1, 0)
                if (stmt.end_lineno or stmt.lineno) < len(src.lines)
                else len(text)
            )
            new_text = text[:start] + block + text[end:]
            if import_line:
                new_text = _add_import(new_text, import_line)
            out.append(
                TemplateEdit(
                    path=path,
                    new_text=new_text,
                    strategy=FixStrategy.BOUNDS_GUARD,
                    description=f"bounds guard: `if {condition}: {exit_stmt}` before reading item {k}",
                    guarded=hoisted,
                )
            )
    valid = []
    for edit in out:
        try:
            ast.parse(edit.new_text)
        except SyntaxError:
            continue
        valid.append(edit)
    return valid


def _fix_one(text: str, line: int, facts: FailureFacts, path: str) -> TemplateEdit | None:
    tree = ast.parse(text)
    found = _statement_at(tree, line)
    if found is None:
        return None
    stmt, parents = found
    src = _Source(text)
    if not src.line_starts_statement(stmt):
        return None  # e.g. "if x: y.name" on one line: no room for a guard before it
    candidates = _candidates(stmt, facts, src)
    node = _pick([c[0] for c in candidates], facts, src)
    if node is None:
        return None
    role = next(r for n, r in candidates if n is node)
    strategy = _STRATEGY[facts.kind]
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
        ctx = _context([*parents, stmt], tree)
        exit_stmt, import_line = _exit(ctx, node, role, facts, src)
        indent = src.indent_of(stmt.lineno)
        step = "    " if "\t" not in indent else "\t"
        condition = _condition(node, role, src)
        guard = f"{indent}if {condition}:\n{indent}{step}{exit_stmt}\n"
        insert_at = src.offset(stmt.lineno, 0)
        new_text = text[:insert_at] + guard + text[insert_at:]
        if import_line:
            new_text = _add_import(new_text, import_line)
        guarded = src.segment(node)
        description = f"{strategy.value.replace('_', ' ')}: `if {condition}: {exit_stmt}` before line {stmt.lineno}"
    try:
        ast.parse(new_text)
    except SyntaxError:
        return None
    return TemplateEdit(path=path, new_text=new_text, strategy=strategy, description=description, guarded=guarded)


def python_template_fixes(*, path: str, text: str, lines: list[int], facts: FailureFacts) -> list[TemplateEdit]:
    """Template edits for the fault at any of ``lines`` (diagnosed lines first); distinct results only."""
    if facts.kind is FailureKind.UNKNOWN:
        return []
    try:
        ast.parse(text)
    except SyntaxError:
        return []
    edits: list[TemplateEdit] = []
    seen: set[str] = set()
    for line in lines:
        if line < 1 or line > len(text.splitlines()):
            continue
        # Value-level variants first (a missing optional value is not an error), then the guard with an exit.
        found = [*_value_variants(text, line, facts, path), *_statement_rewrites(text, line, facts, path)]
        for edit in [*found, *filter(None, [_fix_one(text, line, facts, path)])]:
            if edit.new_text not in seen:
                seen.add(edit.new_text)
                edits.append(edit)
    return edits
