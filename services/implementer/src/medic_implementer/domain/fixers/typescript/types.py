"""Declared TypeScript types a fix must respect: where a value flows and what its declared type admits.

A fallback value is only right when the type of the place it lands in allows it: a field declared
``number | null`` takes ``null`` (its contract for "no value"), a ``number`` field never does. The place is
found in the syntax tree: the property of an object literal whose type is annotated on its variable (or is
the function's declared return type), a variable's own annotation, or the function's return type. Type names
are resolved to the file's own ``interface``/``type`` declarations; anything else is unknown (None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from .syntax import FUNCTIONS, text_of, walk_all

__all__ = [
    "Destination",
    "admits_null",
    "declared_return_type",
    "destination_of",
    "object_members",
]

# Expressions a value passes through unchanged in kind on its way to where it lands.
_THROUGH = {
    "parenthesized_expression",
    "call_expression",
    "arguments",
    "binary_expression",
    "unary_expression",
    "as_expression",
    "non_null_expression",
    "await_expression",
    "template_substitution",
    "template_string",
}


@dataclass(frozen=True, slots=True)
class Destination:
    """Where an expression's value lands: the outermost expression holding it there, and that place's declared type."""

    value: Node  # the expression stored (a property's value, a variable's initializer, a returned expression)
    declared: str  # the declared type text, e.g. "number | null"


def _strip_promise(declared: str) -> str:
    return re.sub(r"^Promise<(.*)>$", r"\1", declared.strip(), flags=re.S).strip()


def _annotation(node: Node | None) -> str | None:
    if node is None:
        return None
    return text_of(node).lstrip(":").strip() or None


def _enclosing_function(node: Node) -> Node | None:
    current = node.parent
    while current is not None and current.type not in FUNCTIONS:
        current = current.parent
    return current


def declared_return_type(function: Node | None) -> str | None:
    """A function's declared return type, ``Promise<T>`` read as ``T`` (None when not annotated)."""
    if function is None:
        return None
    declared = _annotation(function.child_by_field_name("return_type"))
    return _strip_promise(declared) if declared else None


def object_members(body: Node) -> dict[str, str]:
    """Property name → declared type text of an object type body (``{ a: T; b?: U }``; optional adds undefined)."""
    found: dict[str, str] = {}
    for member in body.named_children:
        if member.type != "property_signature":
            continue
        name = member.child_by_field_name("name")
        kind = member.child_by_field_name("type")
        if name is None or kind is None:
            continue
        declared = _annotation(kind) or ""
        optional = any(c.type == "?" for c in member.children)
        found[text_of(name).strip("'\"")] = f"{declared} | undefined" if optional else declared
    return found


def _object_type(declared: str, root: Node) -> dict[str, str] | None:
    """The members of a declared object type: an inline ``{ ... }`` or a name declared in this file."""
    declared = declared.strip()
    for node in walk_all(root):
        if node.type == "object_type" and text_of(node).strip() == declared:
            return object_members(node)
    if not re.fullmatch(r"[A-Za-z_$][\w$]*", declared):
        return None
    for node in walk_all(root):
        if node.type == "interface_declaration":
            name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
            if name is not None and body is not None and text_of(name) == declared:
                return object_members(body)
        elif node.type == "type_alias_declaration":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is not None and value is not None and text_of(name) == declared and value.type == "object_type":
                return object_members(value)
    return None


def _contextual_type(expr: Node, root: Node) -> str | None:
    """The declared type an expression is checked against where it stands (variable annotation or return type)."""
    parent = expr.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == expr:
        return _annotation(parent.child_by_field_name("type"))
    if parent.type == "return_statement":
        return declared_return_type(_enclosing_function(parent))
    if parent.type in ("satisfies_expression", "as_expression") and parent.named_child_count == 2:
        return text_of(parent.named_children[1]).strip() or None
    if parent.type == "arrow_function" and parent.child_by_field_name("body") == expr:
        return declared_return_type(parent)
    return None


def destination_of(expr: Node, root: Node) -> Destination | None:
    """Where ``expr``'s value lands and the declared type there; None when no declared type is known."""
    node = expr
    while node.parent is not None and node.parent.type in _THROUGH:
        node = node.parent
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "pair" and parent.child_by_field_name("value") == node:
        key = parent.child_by_field_name("key")
        holder = parent.parent
        if key is None or holder is None or holder.type != "object":
            return None
        outer = _contextual_type(holder, root)
        members = _object_type(outer, root) if outer else None
        declared = members.get(text_of(key).strip("'\"")) if members else None
        return Destination(value=node, declared=declared) if declared else None
    declared = _contextual_type(node, root)
    return Destination(value=node, declared=declared) if declared else None


def admits_null(declared: str) -> bool:
    """True when a declared type allows ``null`` (``T | null``, ``null``, ``any``, ``unknown``)."""
    parts = {p.strip() for p in declared.split("|")}
    return bool(parts & {"null", "any", "unknown"})
