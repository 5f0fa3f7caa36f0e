"""A query value read as one shape that arrives as the other: Express (and Node's ``querystring``) gives
``req.query.tag`` as a string for ``?tag=a`` and as an array for ``?tag=a&tag=b``.

``tags.map is not a function`` (the code reads a list, the client sent one value) and
``req.query.tag.split is not a function`` (the code reads text, the client repeated the name) are the same
fault: the code assumed one shape of a value whose shape the client chooses. The fix normalises the value
where it is read, so every later use sees the shape it assumes:

- read as a list: ``([] as string[]).concat(<read> ?? [])`` (one value becomes a list of one);
- read as text and split on a separator: ``([] as string[]).concat(<read> ?? []).join(<sep>)``, so the
  repeated values are split exactly as one comma-joined value would be (``?tag=a&tag=b`` means ``a,b``).

A value read as a list that the code read as separated text before the suspect commit (its removed lines split
the same query value: ``String(req.query.diet ?? "").split(",")``) still arrives that way from older clients
(``?diet=vegan,nut-free``): each value is split on that separator too, ``.flatMap((v) => v.split(","))``; a list
of one such text would reject every diet in it.

Text methods before the split (``tag.toLowerCase().split(",")``) keep that meaning. Text used any other way
(``tag.toLowerCase() === x``) has no single right answer for a repeated value (which of the values?): no
fix. Only a handler's own ``<req>.query`` read gets this fix, directly or through one
``const`` it is declared into.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ...failure import FailureFacts
from ..edits import TemplateEdit
from .conventions import single_declaration
from .exits import exit_context, request_param
from .syntax import checked_edit, parse, statement_at, text_of, walk_all

__all__ = ["repeated_query_value"]

_NOT_A_FUNCTION = re.compile(r"\.([A-Za-z_$][\w$]*) is not a function")
_LIST_METHODS = {"map", "filter", "forEach", "reduce", "find", "findIndex", "some", "every", "flatMap", "join", "at"}
# Text → text methods a chain may apply before it splits (``tag.toLowerCase().split(",")``).
_TEXT_METHODS = {
    "toLowerCase",
    "toUpperCase",
    "toLocaleLowerCase",
    "toLocaleUpperCase",
    "trim",
    "trimStart",
    "trimEnd",
    "normalize",
}
_WRAPPERS = {"parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression"}


def _unwrap(node: Node) -> Node:
    """The value under parentheses, casts and a default (``(x ?? "")`` → ``x``)."""
    while True:
        if node.type in _WRAPPERS and node.named_children:
            node = node.named_children[0]
        elif node.type == "binary_expression" and text_of(node.child_by_field_name("operator") or node) in ("??", "||"):
            left = node.child_by_field_name("left")
            if left is None:
                return node
            node = left
        else:
            return node


def _query_read(node: Node, request: str) -> bool:
    """``<request>.query.name`` or ``<request>.query["name"]``."""
    if node.type not in ("member_expression", "subscript_expression"):
        return False
    holder = node.child_by_field_name("object")
    return holder is not None and text_of(holder).replace(" ", "") == f"{request}.query"


def _read_site(receiver: Node, function: Node, request: str, before: int) -> Node | None:
    """The query read the receiver's value comes from: the receiver itself, or the value of the one ``const`` it
    names (declared before the failing statement)."""
    value = _unwrap(receiver)
    if _query_read(value, request):
        return value
    if value.type != "identifier":
        return None
    declarator = single_declaration(function, text_of(value))
    if declarator is None or declarator.start_byte >= before:
        return None
    init = declarator.child_by_field_name("value")
    read = _unwrap(init) if init is not None else None
    return read if read is not None and _query_read(read, request) else None


def _query_name(site: Node) -> str:
    """``diet`` of ``req.query.diet`` / ``req.query["diet"]``."""
    key = site.child_by_field_name("property") or site.child_by_field_name("index")
    return text_of(key).strip("\"'`") if key is not None else ""


def _former_separator(name: str, removed: tuple[str, ...]) -> str | None:
    """The separator literal the code split query value ``name`` on before the suspect commit, if it did."""
    reads = re.compile(rf"\bquery(?:\.{re.escape(name)}\b|\[\s*[\"'`]{re.escape(name)}[\"'`]\s*\])")
    for line in removed:
        if reads.search(line) and (split := re.search(r"\.split\(\s*(\"[^\"\\]*\"|'[^'\\]*')\s*\)", line)):
            return split.group(1)
    return None


def _split_separator(call: Node) -> Node | None:
    """The separator literal of the ``.split(<sep>)`` the call's text ends in, through text → text methods
    (``v.split(",")``, ``v.toLowerCase().trim().split(",")``); None when the text is used another way."""
    node = call
    while True:
        callee = node.child_by_field_name("function")
        prop = callee.child_by_field_name("property") if callee is not None and callee.type == "member_expression" else None
        name = text_of(prop) if prop is not None else ""
        if name == "split":
            args = node.child_by_field_name("arguments")
            sep = args.named_children[0] if args is not None and args.named_children else None
            return sep if sep is not None and sep.type == "string" else None
        member, outer = node.parent, node.parent.parent if node.parent is not None else None
        if name not in _TEXT_METHODS or member is None or member.type != "member_expression" or outer is None:
            return None
        if outer.type != "call_expression" or member.child_by_field_name("object") != node:
            return None
        node = outer


def repeated_query_value(text: str, line: int, facts: FailureFacts, path: str) -> TemplateEdit | None:
    """The query value normalised to the shape the failing call assumes; None when the fault is not that."""
    match = _NOT_A_FUNCTION.search(facts.message)
    if match is None:
        return None
    method = match.group(1)
    root = parse(text, path)
    stmt = statement_at(root, line - 1)
    ctx = exit_context(stmt, path) if stmt is not None else None
    request = request_param(ctx.function) if ctx is not None and ctx.function is not None else None
    if stmt is None or ctx is None or ctx.function is None or request is None or ctx.express_response is None:
        return None
    list_type = "([] as string[])" if path.endswith((".ts", ".tsx", ".mts", ".cts")) else "[]"
    for call in (n for n in walk_all(stmt) if n.type == "call_expression"):  # callbacks too: `xs.filter((d) => tags.some(...))`
        callee = call.child_by_field_name("function")
        prop = callee.child_by_field_name("property") if callee is not None and callee.type == "member_expression" else None
        receiver = callee.child_by_field_name("object") if callee is not None else None
        if prop is None or receiver is None or text_of(prop) != method:
            continue
        site = _read_site(receiver, ctx.function, request, stmt.start_byte)
        if site is None:
            continue
        separator = _split_separator(call)
        if method in _LIST_METHODS:
            replacement, shape = f"{list_type}.concat({text_of(site)} ?? [])", "a list"
            former = _former_separator(_query_name(site), facts.removed_lines)
            if former is not None:
                replacement += f".flatMap((v) => v.split({former}))"
                shape = f"a list, each value split on {former} as before the suspect commit"
        elif separator is not None:
            replacement, shape = f"{list_type}.concat({text_of(site)} ?? []).join({text_of(separator)})", "joined text"
        else:
            return None
        data = text.encode()
        new_text = (data[: site.start_byte] + replacement.encode() + data[site.end_byte :]).decode()
        return checked_edit(
            path,
            new_text,
            description=f"repeated query value: `{text_of(site)}` read as {shape} whether the client sent it once or repeated",
            guarded=text_of(site),
        )
    return None
