"""Value-level Python fixes: the missing value flows on as None or empty instead of failing the request.

``payload["a"]["b"]`` is read with ``.get()``, ``set(xs)`` iterates ``xs or []``, ``max(xs)`` takes
``default=None``, reads from a derived value that may be None yield None, and request text used as a
number is converted where it is read. One function per fault shape; each returns its variants.
"""

from __future__ import annotations

import ast

from medic_contracts import FixStrategy

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .source import Source, function_of, header_nodes, parses, pure, replace, statement_at, walk_no_nested

__all__ = ["value_variants"]

# (node → replacement) edits, strategy, description, guarded expression
_Variant = tuple[list[tuple[ast.AST, str]], FixStrategy, str, str]
_Function = ast.FunctionDef | ast.AsyncFunctionDef
_ITERATING_CALLS = ("set", "list", "sorted", "tuple", "len", "sum", "any", "all", "dict", "frozenset")


def _null_safe_reads(fn: ast.AST, name: str, after_line: int, src: Source) -> list[tuple[ast.AST, str]]:
    """``name.attr`` reads from ``after_line`` on, rewritten to yield None when ``name`` is None."""
    edits: list[tuple[ast.AST, str]] = []
    taken: list[ast.AST] = []
    for node in walk_no_nested(fn):
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


def _is_primary_lookup(fn: _Function | None, name: str) -> bool:
    """True when ``name`` is assigned from a call that takes one of the function's parameters (a lookup by id)."""
    if fn is None:
        return False
    params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)} - {"self", "request", "db", "session"}
    for node in walk_no_nested(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            for call in ast.walk(node.value):
                if isinstance(call, ast.Call) and any(
                    isinstance(n, ast.Name) and n.id in params
                    for a in (*call.args, *(k.value for k in call.keywords))
                    for n in ast.walk(a)
                ):
                    return True
    return False


def _missing_key_get(nodes: list[ast.AST], facts: FailureFacts, src: Source) -> list[_Variant]:
    """payload["shipping"]["country"] → payload.get("shipping", {}).get("country")."""
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
        return [
            (
                [(chain[-1], text_expr)],
                FixStrategy.MISSING_KEY_GUARD,
                f"missing key guard: read {facts.missing_key!r} with .get()",
                src.segment(node),
            )
        ]
    return []


def _iterate_nothing(stmt: ast.stmt, nodes: list[ast.AST], src: Source) -> list[_Variant]:
    """``None`` is not iterable: ``set(xs)`` → ``set(xs or [])``, ``for x in xs`` → ``for x in (xs or [])``."""
    out: list[_Variant] = []
    for node in nodes:
        iterable: ast.expr | None = None
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _ITERATING_CALLS and node.args:
            iterable = node.args[0]
        if iterable is not None and pure(iterable):
            out.append(
                (
                    [(iterable, f"({src.segment(iterable)} or [])")],
                    FixStrategy.NULL_GUARD,
                    f"null guard: iterate {src.segment(iterable)} or nothing",
                    src.segment(iterable),
                )
            )
            break
    if isinstance(stmt, ast.For) and pure(stmt.iter):
        out.append(
            (
                [(stmt.iter, f"({src.segment(stmt.iter)} or [])")],
                FixStrategy.NULL_GUARD,
                "null guard: loop over nothing when None",
                src.segment(stmt.iter),
            )
        )
    return out


def _empty_default(stmt: ast.stmt, nodes: list[ast.AST], fn: ast.AST, src: Source) -> list[_Variant]:
    """``max(xs)`` → ``max(xs, default=None)``, and reads of the result after it yield None."""
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
            return [
                (
                    edits,
                    FixStrategy.EMPTY_ITERABLE_GUARD,
                    f"empty iterable guard: {getattr(node.func, 'id', '')}() of nothing is None",
                    src.segment(node.args[0]),
                )
            ]
    return []


def _none_reads(stmt: ast.stmt, nodes: list[ast.AST], fn: _Function, facts: FailureFacts, src: Source) -> list[_Variant]:
    """``x.attr`` reads are None when ``x`` is None, unless ``x`` is the record the request looked up."""
    for node in nodes:
        if isinstance(node, ast.Attribute) and node.attr == facts.property_name and isinstance(node.value, ast.Name):
            name = node.value.id
            if _is_primary_lookup(fn, name):
                return []
            return [
                (
                    _null_safe_reads(fn, name, stmt.lineno, src),
                    FixStrategy.NULL_GUARD,
                    f"null guard: {name}.* reads are None when {name} is None",
                    name,
                )
            ]
    return []


def _number_from_request(nodes: list[ast.AST], fn: ast.AST, facts: FailureFacts, src: Source) -> list[_Variant]:
    """page = request.query_params.get("page", 1); page - 1 → page = int(request.query_params.get("page", 1))."""
    number = "float" if "'float'" in facts.message else "int"
    operands = [
        o for n in nodes if isinstance(n, ast.BinOp | ast.Compare) for o in ast.iter_child_nodes(n) if isinstance(o, ast.Name)
    ]
    for operand in operands:
        for node in walk_no_nested(fn):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == operand.id for t in node.targets)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr in ("get", "getlist", "get_json")
            ):
                seg = src.segment(node.value)
                return [
                    (
                        [(node.value, f"{number}({seg})")],
                        FixStrategy.NULL_GUARD,
                        f"type guard: {operand.id} = {number}(...)",
                        operand.id,
                    )
                ]
    return []


def value_variants(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """Edits that let the missing value flow on as None or empty instead of failing the request."""
    tree = ast.parse(text)
    found = statement_at(tree, line)
    if found is None:
        return []
    stmt, parents = found
    src = Source(text)
    fn = function_of([*parents, stmt])
    nodes = [n for root in header_nodes(stmt) for n in walk_no_nested(root)]
    out: list[_Variant] = []
    if facts.kind is FailureKind.MISSING_KEY:
        out += _missing_key_get(nodes, facts, src)
    if facts.kind is FailureKind.NONE_VALUE and "not iterable" in facts.message:
        out += _iterate_nothing(stmt, nodes, src)
    if facts.kind is FailureKind.EMPTY_ITERABLE and fn is not None:
        out += _empty_default(stmt, nodes, fn, src)
    if facts.kind is FailureKind.NONE_VALUE and facts.property_name and fn is not None:
        out += _none_reads(stmt, nodes, fn, facts, src)
    if facts.kind is FailureKind.WRONG_TYPE and fn is not None:
        out += _number_from_request(nodes, fn, facts, src)
    edits_out: list[TemplateEdit] = []
    for edits, strategy, description, guarded in out:
        if not edits:
            continue
        new_text = replace(text, src, edits)
        if parses(new_text):
            edits_out.append(
                TemplateEdit(path=path, new_text=new_text, strategy=strategy, description=description, guarded=guarded)
            )
    return edits_out
