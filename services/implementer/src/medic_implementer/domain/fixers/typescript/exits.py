"""The early exit a TypeScript guard takes: a copy of the function's own exits (:mod:`.conventions`).

The function's sibling exits decide the form and the body's key: ``return { status, body }`` results,
Express ``res.status(n).json(...)`` (with the bare ``return;`` after it when that is how the function ends
one), ``Response.json``/``NextResponse.json``; without any in the function, the module's own Express or
Response exits, then the context (a Next.js route handler, an Express ``(req, res)`` handler). The status is
by kind: 404 for a missing entity, the function's own 4xx rejection (else 400) for bad request input. A loop
over the value ``continue``s; other functions return their declared type's empty value, and when that type
has none (an object type that does not admit null) there is no guard at all: never ``return null`` there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from ...failure import FailureFacts, FailureKind, entity_name
from ..fault import DOCUMENTS_A_THROW, not_found_message
from .conventions import SiblingExit, module_exits, sibling_exits, walk_function
from .syntax import FUNCTIONS, LOOPS, parse, text_of, walk_all, walk_no_nested
from .types import admits_null, declared_return_type

__all__ = ["ExitContext", "early_exit", "exit_context", "request_param"]

_ROUTE_FILE = re.compile(r"(^|/)route\.(ts|js|mjs|tsx|jsx)$")
_HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


@dataclass(frozen=True, slots=True)
class ExitContext:
    """Where the failing statement sits: its function, how that function answers HTTP, the loop variables around it."""

    function: Node | None
    route_method: str | None
    express_response: str | None
    loop_names: frozenset[str]


def _function_name(fn: Node) -> str | None:
    name = fn.child_by_field_name("name")
    if name is not None:
        return text_of(name)
    parent = fn.parent
    if parent is not None and parent.type == "variable_declarator":
        decl_name = parent.child_by_field_name("name")
        return text_of(decl_name) if decl_name is not None else None
    return None


def _param_names(fn: Node) -> list[str]:
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return []
    if params.type == "identifier":
        return [text_of(params)]
    names: list[str] = []
    for param in params.named_children:
        pattern = param.child_by_field_name("pattern") or param
        names.append(text_of(pattern) if pattern.type == "identifier" else "")
    return names


def request_param(function: Node) -> str | None:
    """A handler's request: the name of its first parameter, when that is a plain identifier."""
    params = function.child_by_field_name("parameters")
    first = params.named_children[0] if params is not None and params.named_children else None
    pattern = first.child_by_field_name("pattern") if first is not None else None
    return text_of(pattern) if pattern is not None and pattern.type == "identifier" else None


def exit_context(stmt: Node, path: str) -> ExitContext:
    """The context of a statement: a Next.js route handler, an Express handler, a loop, or a plain function."""
    function: Node | None = None
    loops: set[str] = set()
    node = stmt.parent
    while node is not None:
        if node.type in LOOPS and function is None:
            left = node.child_by_field_name("left") or node.child_by_field_name("initializer")
            if left is not None:
                loops.update(text_of(n) for n in walk_no_nested(left) if n.type == "identifier")
        if node.type in FUNCTIONS:
            function = node
            break
        node = node.parent
    route_method: str | None = None
    express: str | None = None
    if function is not None:
        name = _function_name(function)
        exported = any(p is not None and p.type == "export_statement" for p in _ancestors(function))
        if name in _HTTP_METHODS and exported and _ROUTE_FILE.search(path):
            route_method = name
        params = _param_names(function)
        if (
            route_method is None
            and len(params) >= 2
            and params[0] in ("req", "request")
            and params[1] in ("res", "response", "reply")
        ):
            express = params[1]
    return ExitContext(function=function, route_method=route_method, express_response=express, loop_names=frozenset(loops))


def _ancestors(node: Node) -> Iterator[Node | None]:
    current = node.parent
    for _ in range(4):
        yield current
        if current is None:
            return
        current = current.parent


def _imports_next_response(root: Node) -> bool:
    for node in root.named_children:
        if node.type == "import_statement" and b"next/server" in (node.text or b"") and b"NextResponse" in (node.text or b""):
            return True
    return False


_INPUT = re.compile(
    r"^(req|request)\.(query|body|headers|params|cookies)\b|searchParams|\.headers\.get\(|^(query|body|headers)\b"
)


def _status_for(guarded: str, facts: FailureFacts, siblings: list[SiblingExit]) -> tuple[int, SiblingExit | None]:
    """The status by kind (a missing entity 404, bad input the function's own 4xx or 400) and the sibling to copy."""
    if facts.exit_status is not None:
        status = facts.exit_status
    elif _INPUT.search(guarded) or facts.kind is FailureKind.WRONG_TYPE:
        rejects = [s for s in siblings if 400 <= s.status < 500 and s.status != 404]
        status = rejects[0].status if rejects else 400
    else:
        status = 404
    same = [s for s in siblings if s.status == status]
    return status, (same[0] if same else siblings[0] if siblings else None)


def _body(sibling: SiblingExit | None, status: int, message: str, *, copy: bool) -> str:
    """The exit's body in the sibling's shape: its own body when it rejects the same input, else its key."""
    if sibling is not None and copy and sibling.status == status:
        return sibling.body
    key = sibling.key if sibling is not None and sibling.key else "error"
    if sibling is not None and sibling.message and sibling.message == sibling.message.lower():
        message = message[:1].lower() + message[1:]  # the sibling's case style; an acronym (JSON) stays
    return f"{{ {key}: {json.dumps(message)} }}"


def _element_of(function: Node | None, guarded: Node) -> str | None:
    """The array a guarded variable was read from by index (``const latest = reviews[reviews.length - 1]``)."""
    if function is None or guarded.type != "identifier":
        return None
    for node in walk_function(function):
        if node.type != "variable_declarator":
            continue
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        if name is not None and value is not None and text_of(name) == text_of(guarded) and value.type == "subscript_expression":
            array = value.child_by_field_name("object")
            index = value.child_by_field_name("index")
            if array is not None and index is not None and index.type != "string":
                return text_of(array)
    return None


def early_exit(
    ctx: ExitContext, guarded: Node, role: str, facts: FailureFacts, root: Node, *, own_message: bool = False
) -> str | None:
    """The statement(s) a guard runs when ``guarded`` is missing (``role`` "empty": has no items); None when the
    function has no exit a guard could take without breaking its declared type (then no guard: abstain).

    ``own_message``: the exit says ``facts.exit_message`` in the sibling's shape, never the sibling's own body (a
    sibling rejecting another input says why that input was wrong)."""
    name = entity_name(text_of(guarded))
    collection = _element_of(ctx.function, guarded)
    if collection is not None and role == "none":
        name, role = entity_name(collection), "empty"  # xs[xs.length - 1] of an empty xs: "No xs found"
    siblings = sibling_exits(ctx.function) or module_exits(root)
    status, sibling = _status_for(text_of(guarded), facts, siblings)
    input_kind = status != 404 and facts.exit_status is None
    message = not_found_message(name, role, facts) if not input_kind else facts.exit_message or f"Invalid {name.lower()}"
    body = _body(sibling, status, message, copy=input_kind and not own_message)
    forms = {s.form for s in siblings}
    if ctx.route_method is not None or (not ctx.express_response and "response" in forms):
        factory = "NextResponse" if _imports_next_response(root) else "Response"
        return f"return {factory}.json({body}, {{ status: {status} }});"
    if ctx.express_response:
        express = next((s for s in siblings if s.form == "express"), None)
        call = f"{ctx.express_response}.status({status}).json({body});"
        returns_void = declared_return_type(ctx.function) == "void"
        if (express is not None and express.separate_return) or (express is None and returns_void):
            return f"{call}\nreturn;"
        return f"return {call}"
    if "result" in forms:
        return f"return {{ status: {status}, body: {body} }};"
    names = {text_of(n) for n in walk_no_nested(guarded) if n.type == "identifier"}
    if names & ctx.loop_names:
        return "continue;"
    if documents_a_throw(ctx.function):
        # Its own doc says it throws: throw what it names, when the module defines that error for the looked-up
        # value; never a quiet empty answer that breaks the contract.
        return documented_throw(ctx.function, guarded, root)
    value = _empty_value(ctx.function)
    if value is None:
        return None
    return f"return {value};" if value else "return;"


def doc_comment(function: Node | None) -> str:
    """The comment right above the statement that declares ``function`` (its JSDoc), or ''."""
    statement = function
    while statement is not None and statement.parent is not None:
        if statement.parent.type in ("program", "statement_block", "class_body"):
            break
        statement = statement.parent
    previous = statement.prev_named_sibling if statement is not None else None
    return text_of(previous) if previous is not None and previous.type == "comment" else ""


def function_doc(source: str, path: str, name: str) -> str:
    """The doc comment of the function ``name`` (a declaration, a ``const`` arrow or function, a method) in
    ``source``: the same syntax-tree lookup the exits use, for verification's documented errors."""
    wanted = name.rsplit(".", 1)[-1]
    for node in walk_all(parse(source, path)):
        if node.type in FUNCTIONS and _function_name(node) == wanted:
            return doc_comment(node)
    return ""


def documented_throw(function: Node | None, guarded: Node, root: Node) -> str | None:
    """``throw new UnknownUnitError(unit);`` when the doc names an error class the module declares with a one-parameter
    constructor and the missing value was looked up by one of the function's parameters (``FACTORS[unit]``)."""
    if function is None or guarded.type != "subscript_expression":
        return None
    index = guarded.child_by_field_name("index")
    if index is None or index.type != "identifier" or text_of(index) not in _param_names(function):
        return None
    named = set(re.findall(r"\b([A-Z]\w*(?:Error|Exception))\b", doc_comment(function)))
    for node in walk_all(root):
        name = node.child_by_field_name("name") if node.type == "class_declaration" else None
        if name is None or text_of(name) not in named:
            continue
        constructors = [m for m in walk_all(node) if m.type == "method_definition" and text_of(m).startswith("constructor")]
        params = constructors[0].child_by_field_name("parameters") if constructors else None
        if params is not None and len(params.named_children) == 1:
            return f"throw new {text_of(name)}({text_of(index)});"
    return None


def documents_a_throw(function: Node | None) -> bool:
    """Whether the doc comment right above the statement declaring ``function`` says it throws."""
    return DOCUMENTS_A_THROW.search(doc_comment(function)) is not None


def _empty_value(function: Node | None) -> str | None:
    """What a function returns for "nothing", by its declared return type (null when not declared); None when the
    declared type has no empty value (an object or named type that does not admit null: never ``return null``)."""
    declared = declared_return_type(function) or ""
    if not declared or admits_null(declared) or "undefined" in declared:
        return "null" if not declared or "null" in declared or not declared.strip() else "undefined"
    if declared == "boolean":
        return "false"
    if declared in ("number", "bigint"):
        return "0" if declared == "number" else "0n"
    if declared == "string":
        return '""'
    if declared.endswith("[]") or declared.startswith(("Array<", "ReadonlyArray<")):
        return "[]"
    if declared == "void":
        return ""
    return None
