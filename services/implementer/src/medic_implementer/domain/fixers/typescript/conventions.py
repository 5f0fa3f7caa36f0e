"""The function's own exits: how a TypeScript handler already answers an error, so a new early exit copies it.

Three forms are recognised, each with its status and the key its body's message sits under:
``return { status: 404, body: { error: "..." } }`` (a handler returning its own result objects),
``res.status(404).json({ error: "..." })`` (Express; with the ``return;`` after it when that is how the
function ends it), and ``Response.json({ error: "..." }, { status: 404 })`` / ``NextResponse.json`` (Next.js).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from .syntax import FUNCTIONS, text_of

__all__ = ["SiblingExit", "module_exits", "sibling_exits", "single_declaration", "walk_function"]


@dataclass(frozen=True, slots=True)
class SiblingExit:
    """One error exit the function already has."""

    form: str  # "result" | "express" | "response"
    status: int
    key: str | None  # the body's message key ("error", "message", ...), when the body is { key: "text" }
    message: str | None  # that message's text
    body: str  # the body object's source text
    callee: str  # "res" for express, "Response"/"NextResponse" for response, "" for result
    separate_return: bool  # express: the exit is `res.status(..).json(..);` followed by a bare `return;`


def walk_function(node: Node) -> Iterator[Node]:
    """Named descendants, not entering nested functions."""
    stack = list(reversed(node.named_children))
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in reversed(current.named_children) if c.type not in FUNCTIONS)


def single_declaration(function: Node, name: str) -> Node | None:
    """The one ``const/let name = ...`` declarator of ``name`` in the function (None when not exactly one)."""
    found = [
        n
        for n in walk_function(function)
        if n.type == "variable_declarator"
        and (ident := n.child_by_field_name("name")) is not None
        and ident.type == "identifier"
        and text_of(ident) == name
    ]
    return found[0] if len(found) == 1 else None


def _pairs(obj: Node) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for pair in obj.named_children:
        if pair.type == "pair":
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is not None and value is not None:
                found[text_of(key).strip("'\"")] = value
    return found


def _message(body: Node) -> tuple[str | None, str | None]:
    if body.type != "object":
        return None, None
    for key, value in _pairs(body).items():
        if value.type == "string":
            return key, text_of(value)[1:-1]
    return None, None


def _status(node: Node | None) -> int | None:
    if node is None or node.type != "number":
        return None
    try:
        value = int(text_of(node))
    except ValueError:
        return None
    return value if 400 <= value <= 599 else None


def _result_exit(ret: Node) -> SiblingExit | None:
    value = ret.named_children[0] if ret.named_children else None
    if value is None or value.type != "object":
        return None
    pairs = _pairs(value)
    status, body = _status(pairs.get("status")), pairs.get("body")
    if status is None or body is None:
        return None
    key, message = _message(body)
    return SiblingExit("result", status, key, message, text_of(body), "", False)


def _call_exit(call: Node, followed_by_return: bool) -> SiblingExit | None:
    fn, args = call.child_by_field_name("function"), call.child_by_field_name("arguments")
    if fn is None or args is None or fn.type != "member_expression":
        return None
    obj, prop = fn.child_by_field_name("object"), fn.child_by_field_name("property")
    if obj is None or prop is None or text_of(prop) != "json" or not args.named_children:
        return None
    body = args.named_children[0]
    if obj.type == "call_expression":  # res.status(404).json(body)
        inner_fn, inner_args = obj.child_by_field_name("function"), obj.child_by_field_name("arguments")
        if inner_fn is None or inner_args is None or inner_fn.type != "member_expression" or not inner_args.named_children:
            return None
        res, method = inner_fn.child_by_field_name("object"), inner_fn.child_by_field_name("property")
        status = _status(inner_args.named_children[0])
        if res is None or method is None or res.type != "identifier" or text_of(method) != "status" or status is None:
            return None
        key, message = _message(body)
        return SiblingExit("express", status, key, message, text_of(body), text_of(res), followed_by_return)
    if obj.type == "identifier" and text_of(obj) in ("Response", "NextResponse") and len(args.named_children) >= 2:
        init = args.named_children[1]
        status = _status(_pairs(init).get("status")) if init.type == "object" else None
        if status is None:
            return None
        key, message = _message(body)
        return SiblingExit("response", status, key, message, text_of(body), text_of(obj), False)
    return None


def sibling_exits(function: Node | None) -> list[SiblingExit]:
    """The error exits (status 4xx/5xx) ``function`` already takes, in source order."""
    if function is None:
        return []
    body = function.child_by_field_name("body")
    found: list[SiblingExit] = []
    for node in walk_function(body) if body is not None else ():
        if node.type == "return_statement":
            value = node.named_children[0] if node.named_children else None
            exit_ = _result_exit(node)
            if exit_ is None and value is not None and value.type == "call_expression":
                exit_ = _call_exit(value, False)
            if exit_ is not None:
                found.append(exit_)
        elif node.type == "expression_statement" and node.named_children:
            call = node.named_children[0]
            nxt = node.next_named_sibling
            followed = nxt is not None and nxt.type == "return_statement" and not nxt.named_children
            if call.type == "call_expression":
                exit_ = _call_exit(call, followed)
                if exit_ is not None and exit_.form == "express":
                    found.append(exit_)
    return found


def module_exits(root: Node) -> list[SiblingExit]:
    """The Express and Response error exits of every function in the module (its convention when the failing
    function has none of its own); ``{ status, body }`` results only count inside the function itself."""
    found: list[SiblingExit] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in FUNCTIONS:
            found.extend(e for e in sibling_exits(node) if e.form in ("express", "response"))
        stack.extend(reversed(node.named_children))
    return found
