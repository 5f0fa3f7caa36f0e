"""The guard with an early exit, inserted before the failing TypeScript statement.

The guarded expression is picked from the statement by the fault's shape: the property read from
``null``/``undefined``, the value destructured (V8 names it), the element read past the end, the ``reduce``
of an empty array, the zero divisor.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from ..fault import STRATEGY, is_hinted
from .exits import early_exit, exit_context
from .syntax import checked_edit, header, parse, pure, statement_at, text_of, walk_no_nested
from .types import admits_null, destination_of

__all__ = ["CONVERTS_NULL", "exit_guard"]

#: ``Object.keys(x)`` of a missing ``x``: the argument is the value to guard (no member read failed).
CONVERTS_NULL = re.compile(r"Cannot convert undefined or null to object")
_DESTRUCTURES = re.compile(r"Cannot destructure (?:property '[^']*' of )?'[^']*' as it is (?:undefined|null)")
_PATTERNS = ("object_pattern", "array_pattern")
_OBJECT_CALL = re.compile(r"Object\.(?:keys|values|entries|getOwnPropertyNames|assign|fromEntries)")


def _candidates(stmt: Node, facts: FailureFacts) -> list[tuple[Node, str]]:
    """(node, role) pairs inside the statement's header that the fault may be about."""
    found: list[tuple[Node, str]] = []
    if _DESTRUCTURES.search(facts.message):
        # const { rate } = RATES[code] of undefined: the value missing is the one destructured (the engine names it).
        for node in walk_no_nested(header(stmt)):
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            patterned = node.type == "variable_declarator" and name is not None and name.type in _PATTERNS
            if patterned and value is not None and pure(value):
                found.append((value, "none"))
        return found
    if CONVERTS_NULL.search(facts.message):
        # Object.keys(x) of undefined: the value missing is the argument, not any member read around it.
        for node in walk_no_nested(header(stmt)):
            fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
            wanted = node.type == "call_expression" and fn is not None and _OBJECT_CALL.fullmatch(text_of(fn))
            if wanted and args is not None and args.named_children and pure(args.named_children[0]):
                found.append((args.named_children[0], "none"))
        return found
    for node in walk_no_nested(header(stmt)):
        if facts.kind in (FailureKind.NONE_VALUE, FailureKind.MISSING_KEY, FailureKind.OUT_OF_BOUNDS):
            if node.type == "member_expression":
                obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
                if obj is not None and obj.type == "non_null_expression" and obj.named_child_count == 1:
                    obj = obj.named_children[0]  # session!.user: the assertion was wrong, guard session itself
                plain = obj is not None and prop is not None and pure(obj) and b"?." not in (node.text or b"")
                if plain and obj is not None and prop is not None and facts.property_name in (None, text_of(prop)):
                    found.append((obj, "none"))
            elif node.type == "subscript_expression":
                obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
                matches = index is not None and facts.property_name in (None, text_of(index).strip("'\"`"))
                if obj is not None and matches and pure(obj):
                    found.append((obj, "none"))
        elif facts.kind is FailureKind.EMPTY_ITERABLE and node.type == "call_expression":
            fn = node.child_by_field_name("function")
            args = node.child_by_field_name("arguments")
            if fn is not None and fn.type == "member_expression" and args is not None:
                prop = fn.child_by_field_name("property")
                obj = fn.child_by_field_name("object")
                if (
                    prop is not None
                    and obj is not None
                    and text_of(prop) in ("reduce", "reduceRight")
                    and args.named_child_count == 1
                    and pure(obj)
                ):
                    found.append((obj, "empty"))
        elif facts.kind is FailureKind.DIVIDE_BY_ZERO and node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            right = node.child_by_field_name("right")
            if op is not None and text_of(op) in ("/", "%") and right is not None and right.type != "number":
                found.append((node, "divide"))
    return found


def _pick(found: list[tuple[Node, str]], facts: FailureFacts) -> tuple[Node, str] | None:
    if not found:
        return None
    if facts.hinted_expression:
        for node, role in found:
            if is_hinted(text_of(node), facts.hinted_expression):
                return node, role
    # Innermost object of a chain first: for a.b.c read from null the failing read is the outer one.
    return min(found, key=lambda item: (item[0].start_byte, -item[0].end_byte))


def exit_guard(text: str, line: int, facts: FailureFacts, path: str) -> TemplateEdit | None:
    """``if (<fault>) { <early exit> }`` before the statement at ``line`` (a zero divisor is guarded in place)."""
    data = text.encode()
    root = parse(text, path)
    stmt = statement_at(root, line - 1)
    if stmt is None:
        return None
    picked = _pick(_candidates(stmt, facts), facts)
    if picked is None:
        return None
    node, role = picked
    strategy = STRATEGY[facts.kind]
    if role == "divide":
        right = node.child_by_field_name("right")
        assert right is not None
        # Only BigInt division throws in JavaScript ("RangeError: Division by zero"): its zero is 0n.
        zero = "0n" if "BigInt" in text_of(right) or "RangeError" in (facts.exception_type or "") + facts.message else "0"
        landing = destination_of(node, root)
        if landing is not None and admits_null(landing.declared):
            # Its declared type says how "no value" reads (`number | null`): the whole stored value is null, not 0.
            value = landing.value
            replacement = f"{text_of(right)} == {zero} ? null : {text_of(value)}"
            new = data[: value.start_byte] + replacement.encode() + data[value.end_byte :]
            description = f"zero guard: {text_of(value)} is null (its type {landing.declared}) when {text_of(right)} is 0"
        else:
            replacement = f"({text_of(right)} == {zero} ? {zero} : {text_of(node)})"
            new = data[: node.start_byte] + replacement.encode() + data[node.end_byte :]
            description = f"zero guard: {text_of(node)} evaluates to 0 when {text_of(right)} is 0"
        guarded = text_of(right)
    else:
        ctx = exit_context(stmt, path)
        exit_stmt = early_exit(ctx, node, role, facts, root)
        if exit_stmt is None:
            return None  # no exit the function's declared type allows: no guard
        line_start = data.rfind(b"\n", 0, stmt.start_byte) + 1
        prefix = data[line_start : stmt.start_byte]
        if prefix.strip():
            return None  # the statement shares its line with other code: no room for a guard
        indent = prefix.decode()
        step = "\t" if "\t" in indent else "  "
        condition = f"{text_of(node)} == null" if role == "none" else f"{text_of(node)}.length === 0"
        body = exit_stmt.replace("\n", f"\n{indent}{step}")
        guard = f"if ({condition}) {{\n{indent}{step}{body}\n{indent}}}\n{indent}"
        new = data[: stmt.start_byte] + guard.encode() + data[stmt.start_byte :]
        guarded = text_of(node)
        shown = exit_stmt.replace("\n", " ")
        description = f"{strategy.value.replace('_', ' ')}: `if ({condition}) {shown}` before line {stmt.start_point[0] + 1}"
    new_text = new.decode()
    return checked_edit(path, new_text, description=description, guarded=guarded, strategy=strategy)
