"""Value-level TypeScript fixes: a missing derived value flows on as null or empty instead of failing.

A loop that reads one past the end gets ``<`` for ``<=``; a wrong non-null assertion on a call reads
``E ?? ""`` (or ``[]``); reads from a derived value that may be null become optional or yield null.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from medic_contracts import FixStrategy

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .exits import exit_context
from .guard import CONVERTS_NULL
from .syntax import FUNCTIONS, apply_edits, header, parse, parses_cleanly, pure, statement_at, text_of, walk_all, walk_no_nested

__all__ = ["value_variants"]

# (start byte, end byte, replacement) edits, description, guarded expression
_Variant = tuple[list[tuple[int, int, str]], str, str]
_STRING_METHODS = {
    "split",
    "trim",
    "toLowerCase",
    "toUpperCase",
    "replace",
    "startsWith",
    "endsWith",
    "slice",
    "padStart",
    "charAt",
}
_ARRAY_METHODS = {"map", "filter", "forEach", "reduce", "find", "some", "every", "join", "length", "includes", "flatMap", "at"}
_ID_LIKE = re.compile(r"^(id|slug|sku|key|uuid)$|(Id|_id|Slug|Key)$")


def _declarations(function: Node) -> dict[str, Node]:
    """Variables declared in a function body: name → the value they were declared with."""
    found: dict[str, Node] = {}
    for node in walk_no_nested(function.child_by_field_name("body") or function):
        if node.type != "variable_declarator":
            continue
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        if name is None or value is None:
            continue
        if name.type == "identifier":
            found[text_of(name)] = value
        else:
            for part in walk_no_nested(name):
                if part.type in ("shorthand_property_identifier_pattern", "identifier"):
                    found.setdefault(text_of(part), value)
    return found


def _is_primary_lookup(function: Node | None, name: str, depth: int = 0) -> bool:
    """True when ``name`` comes (through plain assignments) from a call taking an id-like argument."""
    if function is None or depth > 3:
        return False
    value = _declarations(function).get(name)
    if value is None:
        return False
    for node in walk_no_nested(value):
        if node.type == "call_expression":
            args = node.child_by_field_name("arguments")
            if args is not None and any(
                n.type in ("identifier", "property_identifier") and _ID_LIKE.search(text_of(n)) for n in walk_all(args)
            ):
                return True
    inner = value
    while inner.type in (
        "as_expression",
        "non_null_expression",
        "await_expression",
        "parenthesized_expression",
        "satisfies_expression",
    ):
        if not inner.named_children:
            break
        inner = inner.named_children[0]
    if inner.type == "identifier":
        return _is_primary_lookup(function, text_of(inner), depth + 1)
    if inner.type == "member_expression":
        root = inner
        while root.type == "member_expression" and root.child_by_field_name("object") is not None:
            root = root.child_by_field_name("object")  # type: ignore[assignment]
        if root.type == "identifier":
            return _is_primary_lookup(function, text_of(root), depth + 1)
    return False


def _reads_of(scope: Node, name: str) -> list[Node]:
    """``name.x`` member reads (not optional already) inside ``scope``."""
    return [
        n
        for n in walk_no_nested(scope)
        if n.type == "member_expression"
        and (obj := n.child_by_field_name("object")) is not None
        and obj.type == "identifier"
        and text_of(obj) == name
        and b"?." not in (n.text or b"")[: len(name) + 2]
    ]


def _loop_bound(stmt: Node) -> tuple[int, int, str] | None:
    """``for (let i = 0; i <= xs.length; i++)`` around a read of ``xs[i]``: the ``<=`` to make ``<``."""
    node = stmt.parent
    while node is not None and node.type not in FUNCTIONS:
        if node.type == "for_statement":
            condition = node.child_by_field_name("condition")
            test = (
                condition.named_children[0] if condition is not None and condition.type == "expression_statement" else condition
            )
            if test is not None and test.type == "binary_expression":
                op, right = test.child_by_field_name("operator"), test.child_by_field_name("right")
                if op is not None and text_of(op) == "<=" and right is not None and text_of(right).endswith(".length"):
                    return (op.start_byte, op.end_byte, "<")
        node = node.parent
    return None


def _assertion_defaults(stmt: Node) -> list[_Variant]:
    """``E!.split(...)`` where E is a call: the assertion was wrong; read ``E ?? ""`` (or ``[]``)."""
    out: list[_Variant] = []
    for node in walk_no_nested(header(stmt)):
        if node.type == "member_expression":
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and prop is not None and obj.type == "non_null_expression" and obj.named_children:
                inner = obj.named_children[0]
                method = text_of(prop)
                default = '""' if method in _STRING_METHODS else "[]" if method in _ARRAY_METHODS else None
                if default is not None and not pure(inner):
                    out.append(
                        (
                            [(obj.start_byte, obj.end_byte, f"({text_of(inner)} ?? {default})")],
                            f"null guard: {text_of(inner)} ?? {default}",
                            text_of(inner),
                        )
                    )
    return out


_RESPONDERS = re.compile(r"^(?:[A-Za-z_$][\w$]*\.(?:json|send)|(?:Next)?Response\.json)$")


def _is_whole_response(holder: Node) -> bool:
    """True when an object literal is the entire answer: ``res.json({...})``, ``Response.json({...})``, the ``body``
    of a returned ``{ status, body }``, or the returned value itself."""
    parent = holder.parent
    if parent is not None and parent.type == "arguments" and parent.named_children and parent.named_children[0] == holder:
        call = parent.parent
        fn = call.child_by_field_name("function") if call is not None else None
        return fn is not None and _RESPONDERS.match(text_of(fn)) is not None
    if parent is not None and parent.type == "pair":
        key = parent.child_by_field_name("key")
        outer = parent.parent
        return (
            key is not None
            and text_of(key) == "body"
            and outer is not None
            and outer.parent is not None
            and (outer.parent.type == "return_statement")
        )
    return parent is not None and parent.type == "return_statement"


def _null_safe_reads(stmt: Node, function: Node | None, facts: FailureFacts) -> list[_Variant]:
    """Reads from a derived value that may be null yield null (the record the request looked up is left alone)."""
    guarded_name: str | None = None
    for node in walk_no_nested(header(stmt)):
        if node.type == "member_expression":
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and obj.type == "identifier" and prop is not None and facts.property_name in (None, text_of(prop)):
                guarded_name = text_of(obj)
                break
    if not guarded_name or function is None or _is_primary_lookup(function, guarded_name):
        return []
    reads = _reads_of(stmt, guarded_name)
    # The smallest object literal holding every read: when it only describes the value, it becomes null.
    holder: Node | None = None
    if reads:
        candidate = reads[0].parent
        while candidate is not None and candidate is not stmt.parent:
            if candidate.type == "object" and all(
                candidate.start_byte <= r.start_byte and r.end_byte <= candidate.end_byte for r in reads
            ):
                holder = candidate
                break
            candidate = candidate.parent
    if holder is not None and _is_whole_response(holder):
        return []  # the missing value is all the handler answers with: not an empty answer, its own error exit
    if holder is not None and all(
        _reads_of(pair, guarded_name) for pair in holder.named_children if pair.type in ("pair", "shorthand_property_identifier")
    ):
        new = f"{guarded_name} == null ? null : {text_of(holder)}"
        return [([(holder.start_byte, holder.end_byte, new)], f"null guard: {guarded_name} == null gives null", guarded_name)]
    if reads:
        edits = [(r.start_byte, r.start_byte + len(guarded_name.encode()), f"{guarded_name}?") for r in reads]
        return [(edits, f"null guard: optional chaining on {guarded_name}", guarded_name)]
    return []


def value_variants(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """Edits that let a missing value flow on as null/empty instead of failing (derived values only)."""
    if facts.kind not in (FailureKind.NONE_VALUE, FailureKind.OUT_OF_BOUNDS):
        return []
    data = text.encode()
    root = parse(text, path)
    stmt = statement_at(root, line - 1)
    if stmt is None:
        return []
    bound = _loop_bound(stmt)
    if bound is not None:
        # Reading one past the end is the bug itself: fix the loop bound rather than skip the read.
        fixed = TemplateEdit(
            path=path,
            new_text=apply_edits(data, [bound]).decode(),
            strategy=FixStrategy.BOUNDS_GUARD,
            description="bounds guard: loop while i < length, not <=",
            guarded="loop bound",
        )
        return [fixed] if parses_cleanly(fixed.new_text, path) else []
    if CONVERTS_NULL.search(facts.message):
        return []  # no member was read from the missing value: the guard on the argument is the fix
    out = [*_assertion_defaults(stmt), *_null_safe_reads(stmt, exit_context(stmt, path).function, facts)]
    results: list[TemplateEdit] = []
    for edits, description, guarded in out:
        new_text = apply_edits(data, edits).decode()
        if parses_cleanly(new_text, path):
            results.append(
                TemplateEdit(
                    path=path, new_text=new_text, strategy=FixStrategy.NULL_GUARD, description=description, guarded=guarded
                )
            )
    return results
