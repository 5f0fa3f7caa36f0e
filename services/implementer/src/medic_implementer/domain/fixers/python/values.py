"""Value-level Python fixes: the missing value flows on as None or empty instead of failing the request.

``payload["a"]["b"]`` is read with ``.get()``, ``set(xs)`` iterates ``xs or []``, ``max(xs)`` takes
``default=None``, reads from a derived value that may be None yield None, and request text used as a
number is converted where it is read. One function per fault shape; each returns its variants.
"""

from __future__ import annotations

import ast
import dataclasses
import re

from medic_contracts import FixStrategy

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .conventions import optional_key
from .culprit import none_sites
from .exits import early_exit, exit_context
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
    called = {id(n.func) for n in walk_no_nested(fn) if isinstance(n, ast.Call)}
    if any(id(node) in called for node in taken):
        return []  # ``name.method(...)`` would call None: no value-level variant, the guard decides
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


def _missing_key_get(
    nodes: list[ast.AST], facts: FailureFacts, src: Source, *, fn: _Function | None = None, stmt: ast.stmt | None = None
) -> list[_Variant]:
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
        edits: list[tuple[ast.AST, str]] = [(chain[-1], text_expr)]
        description = f"missing key guard: read {facts.missing_key!r} with .get()"
        if (
            fn is not None
            and stmt is not None
            and optional_key(fn, src.segment(node.value), facts.missing_key, src.text)
            and isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.value is chain[-1]
        ):
            # The code's own validation leaves the key optional: an absent value is None and comparisons of it are
            # False (``fuel < 15`` → ``fuel is not None and fuel < 15``), not an error.
            name = stmt.targets[0].id
            edits += _none_safe_compares(fn, name, (stmt.end_lineno or stmt.lineno) + 1, src)
            description = f"optional key: {facts.missing_key!r} may be absent (the handler validates only its required keys)"
        return [(edits, FixStrategy.MISSING_KEY_GUARD, description, src.segment(node))]
    return []


def _none_safe_compares(fn: _Function, name: str, after_line: int, src: Source) -> list[tuple[ast.AST, str]]:
    """Ordering comparisons of ``name`` from ``after_line`` on, made False when ``name`` is None."""
    edits: list[tuple[ast.AST, str]] = []
    for node in walk_no_nested(fn):
        if (
            isinstance(node, ast.Compare)
            and node.lineno >= after_line
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.Lt | ast.LtE | ast.Gt | ast.GtE)
            and any(isinstance(side, ast.Name) and side.id == name for side in (node.left, node.comparators[0]))
        ):
            edits.append((node, f"({name} is not None and {src.segment(node)})"))
    return edits


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


def _number_from_request(
    stmt: ast.stmt, parents: list[ast.AST], tree: ast.Module, facts: FailureFacts, src: Source
) -> list[_Variant]:
    """``days = request.query_params.get("days", 7)`` used as a number (``range(days)``, ``page - 1``,
    ``rows[:limit]``) → convert where it is read, and answer bad input the way the handler does (its own 4xx,
    else the framework's 400) when the text is not a number; outside a handler only the conversion."""
    fn = function_of([*parents, stmt])
    if fn is None:
        return []
    number = "float" if "'float'" in facts.message else "int"
    used = {n.id for root in header_nodes(stmt) for n in ast.walk(root) if isinstance(n, ast.Name)}
    for node in walk_no_nested(fn):
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in used
            and node.lineno <= stmt.lineno
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr in ("get", "getlist", "get_json")
        ):
            continue
        name, seg = node.targets[0].id, src.segment(node.value)
        converted: list[_Variant] = [
            ([(node.value, f"{number}({seg})")], FixStrategy.NULL_GUARD, f"type guard: {name} = {number}(...)", name)
        ]
        ctx = exit_context([*parents, stmt], tree, src.text)
        message = f"{name} must be a number"
        indent = src.indent_of(node.lineno)
        step = "    " if "\t" not in indent else "\t"
        bad_input = dataclasses.replace(facts, exit_message=message)
        exit_found = early_exit(ctx, node.value, "key", bad_input, src, indent=indent + step) if ctx.in_handler else None
        if exit_found is None or (exit_found[1] is not None and exit_found[1] not in src.text):
            return converted  # no grounded exit (or one whose import the module lacks): only the conversion
        body = f"{name} = {number}({seg})"
        guarded = f"try:\n{indent}{step}{body}\n{indent}except ValueError:\n{indent}{step}{exit_found[0]}"
        description = f"type guard: {name} = {number}(...), bad input answered with `{exit_found[0].strip()}`"
        return [([(node, guarded)], FixStrategy.NULL_GUARD, description, name), *converted]
    return []


def _stems(name: str) -> set[str]:
    """The words of an identifier, lower-cased, without the word "default" (``DEFAULT_PREFERENCES`` → {preferences})."""
    words = {w for w in re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", name) if w}
    return {w.lower() for w in words} - {"default", "defaults", "get", "load", "fetch", "find", "read"}


def _related(a: set[str], b: set[str]) -> bool:
    """True when two word sets share a word or a 4-letter stem (``prefs`` ~ ``preferences``)."""
    return any(x == y or (len(x) >= 4 and len(y) >= 4 and (x.startswith(y[:4]) and y.startswith(x[:4]))) for x in a for y in b)


def _module_defaults(tree: ast.Module) -> list[str]:
    """Module-level names that hold a documented default: ``DEFAULT_X = ...`` or imported ``DEFAULT_X``."""
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names += [t.id for t in targets if isinstance(t, ast.Name) and "DEFAULT" in t.id.upper() and t.id.isupper()]
        if isinstance(node, ast.ImportFrom):
            bound = [a.asname or a.name for a in node.names]
            names += [n for n in bound if "DEFAULT" in n and n.isupper()]
    return names


def _contract_default(
    stmt: ast.stmt, fn: _Function, tree: ast.Module, *, facts: FailureFacts, nodes: list[ast.AST], src: Source
) -> list[_Variant]:
    """``prefs = load_preferences(uid)`` returned None, and the function's docstring promises a default that the
    module names (``DEFAULT_PREFERENCES``): ``if prefs is None: prefs = DEFAULT_PREFERENCES`` after the lookup.

    The contract, not a guess: the docstring must speak of a default and the constant's name must match the value
    or the lookup that returned None."""
    sites = none_sites(nodes, facts)
    names = [e.id for e, _ in sites or [] if isinstance(e, ast.Name)]
    if len(names) != 1:
        return []
    name = names[0]
    assign = _last_assignment(fn, name, stmt.lineno)
    if assign is None or not isinstance(assign.value, ast.Call):
        return []
    call = assign.value
    called = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    docs = [ast.get_docstring(fn) or ""]
    helper = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == called), None)
    if helper is not None:
        docs.append(ast.get_docstring(helper) or "")
    if not any(re.search(r"\bdefaults?\b", d, re.I) for d in docs):
        return []
    wanted = _stems(name) | _stems(called)
    defaults = [d for d in _module_defaults(tree) if _related(_stems(d), wanted)]
    if len(defaults) != 1:
        return []
    indent = src.indent_of(assign.lineno)
    step = "    " if "\t" not in indent else "\t"
    end = assign.end_lineno or assign.lineno
    width = len(src.lines[end - 1].rstrip("\r\n").encode())
    point = ast.Pass(lineno=end, col_offset=width, end_lineno=end, end_col_offset=width)  # the end of the lookup's line
    added = f"\n{indent}if {name} is None:\n{indent}{step}{name} = {defaults[0]}"
    return [
        (
            [(point, added)],
            FixStrategy.NULL_GUARD,
            f"contract default: {name} falls back to {defaults[0]} (the documented default) when {called}() finds nothing",
            name,
        )
    ]


def _last_assignment(fn: _Function, name: str, before: int) -> ast.Assign | None:
    found = [
        n
        for n in walk_no_nested(fn)
        if isinstance(n, ast.Assign)
        and n.lineno < before
        and len(n.targets) == 1
        and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id == name
    ]
    return max(found, key=lambda n: n.lineno, default=None)


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
        out += _missing_key_get(nodes, facts, src, fn=fn, stmt=stmt)
    if facts.kind is FailureKind.NONE_VALUE and "not iterable" in facts.message:
        out += _iterate_nothing(stmt, nodes, src)
    if facts.kind is FailureKind.EMPTY_ITERABLE and fn is not None:
        out += _empty_default(stmt, nodes, fn, src)
    if facts.kind is FailureKind.NONE_VALUE and fn is not None:
        out += _contract_default(stmt, fn, tree, facts=facts, nodes=nodes, src=src)
    if facts.kind is FailureKind.NONE_VALUE and facts.property_name and fn is not None:
        out += _none_reads(stmt, nodes, fn, facts, src)
    if facts.kind is FailureKind.WRONG_TYPE:
        out += _number_from_request(stmt, parents, tree, facts, src)
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
