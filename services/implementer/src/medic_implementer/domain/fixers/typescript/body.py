"""A request body that is not JSON (``SyntaxError: Unexpected end of JSON input`` from ``await request.json()``):
bad input, answered with the handler's own 4xx (else 400) instead of a 500.

``const body = await request.json();`` becomes ``const body = await request.json().catch(() => undefined);``
followed by ``if (body === undefined) <bad-input exit>``: the declaration keeps its name and type, and only a
body that did not parse takes the exit. The read may carry a type (``const body: Vote | null = ...``), sit in
wrappers that keep its value (``(await request.json()) as Vote``, ``!``, ``satisfies``), or be destructured
(``const { choice } = await request.json();`` is first split into ``const body = await request.json();`` and
``const { choice } = body;``). Anything that transforms the value first (``Schema.parse(await request.json())``)
gets no fix: ``undefined`` would fail there in another way. Only a route handler (or an Express-style handler)
reading its own request's body (the function's first parameter) gets this fix.
"""

from __future__ import annotations

import dataclasses
import re

from tree_sitter import Node

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .exits import early_exit, exit_context, request_param
from .syntax import checked_edit, guard_after, parse, statement_at, text_of, walk_all

__all__ = ["unparsable_body"]

_JSON_MESSAGE = re.compile(r"JSON", re.I)
# Wrappers that hand the awaited value on unchanged: ``(x)``, ``x as T``, ``x!``, ``x satisfies T``, ``<T>x``.
_TRANSPARENT = {"parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression", "type_assertion"}
_PATTERNS = {"object_pattern", "array_pattern"}
_FRESH_NAMES = ("body", "requestBody", "payload", "jsonBody")


def _body_read(declarator: Node, request: str) -> Node | None:
    """The ``request.json()`` call the declarator's value awaits, through wrappers that keep its value."""
    node = declarator.child_by_field_name("value")
    while node is not None and node.type in _TRANSPARENT:
        node = node.named_children[0] if node.named_children else None
    if node is None or node.type != "await_expression" or not node.named_children:
        return None
    call = node.named_children[0]
    callee = call.child_by_field_name("function") if call.type == "call_expression" else None
    args = call.child_by_field_name("arguments") if call.type == "call_expression" else None
    if callee is None or callee.type != "member_expression" or args is None or args.named_children:
        return None
    obj, prop = callee.child_by_field_name("object"), callee.child_by_field_name("property")
    if obj is None or prop is None or text_of(obj) != request or text_of(prop) != "json":
        return None
    return call


def _declarator(stmt: Node) -> Node | None:
    """The one declarator of a ``const``/``let``/``var`` statement."""
    if stmt.type not in ("lexical_declaration", "variable_declaration"):
        return None
    declarators = [c for c in stmt.named_children if c.type == "variable_declarator"]
    return declarators[0] if len(declarators) == 1 else None


def _split_destructuring(text: str, stmt: Node, declarator: Node, function: Node) -> str | None:
    """``const { a } = await request.json();`` as ``const body = await request.json();`` + ``const { a } = body;``
    (a name the function does not use yet); None when no such name is free."""
    used = {text_of(n) for n in walk_all(function) if n.type in ("identifier", "shorthand_property_identifier_pattern")}
    fresh = next((n for n in _FRESH_NAMES if n not in used), None)
    value = declarator.child_by_field_name("value")
    if fresh is None or value is None:
        return None
    data = text.encode()
    line_start = data.rfind(b"\n", 0, stmt.start_byte) + 1
    indent = data[line_start : stmt.start_byte].decode()
    if indent.strip():
        return None
    keyword = "let" if text_of(stmt).startswith("let") else "const"
    read = f"{keyword} {fresh} = {text_of(value)};\n{indent}".encode()
    return (
        data[: stmt.start_byte] + read + data[stmt.start_byte : value.start_byte] + fresh.encode() + data[value.end_byte :]
    ).decode()


def unparsable_body(text: str, line: int, facts: FailureFacts, path: str) -> TemplateEdit | None:
    """The body read made tolerant and a bad-input exit for a body that does not parse; None otherwise."""
    if facts.kind is not FailureKind.UNPARSABLE_INPUT or not _JSON_MESSAGE.search(facts.message):
        return None
    root = parse(text, path)
    stmt = statement_at(root, line - 1)
    declarator = _declarator(stmt) if stmt is not None else None
    if stmt is None or declarator is None:
        return None
    ctx = exit_context(stmt, path)
    if ctx.function is None or (ctx.route_method is None and ctx.express_response is None):
        return None
    request = request_param(ctx.function)
    call = _body_read(declarator, request) if request is not None else None
    ident = declarator.child_by_field_name("name")
    if call is None or ident is None:
        return None
    if ident.type in _PATTERNS:
        split = _split_destructuring(text, stmt, declarator, ctx.function)
        return unparsable_body(split, line, facts, path) if split is not None else None
    if ident.type != "identifier":
        return None
    bad = dataclasses.replace(facts, kind=FailureKind.WRONG_TYPE, exit_message="Invalid JSON body")
    exit_stmt = early_exit(ctx, ident, "none", bad, root, own_message=True)
    if exit_stmt is None:
        return None
    data = text.encode()
    name = text_of(ident)
    check = guard_after(data, stmt, f"{name} === undefined", exit_stmt)
    if check is None:
        return None
    new = (
        data[: call.end_byte]
        + b".catch(() => undefined)"
        + data[call.end_byte : stmt.end_byte]
        + check.encode()
        + data[stmt.end_byte :]
    )
    new_text = new.decode()
    return checked_edit(
        path,
        new_text,
        description=f"bad input: a body that is not JSON answered with `{exit_stmt.replace(chr(10), ' ')}`",
        guarded=name,
    )
