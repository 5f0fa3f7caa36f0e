"""The arguments of a project's own test calls of a function, read from its test files as plain values.

A test call (``releaseNotes("2.4.0", [{ title: "Faster search", mergedAt: "2026-03-02" }], new Date(...))``) holds
the values the function is meant to work on; the input search (:mod:`.ts_inputs`) replays them with optional
members left out. Only what can be read without running the code is read: string, number, boolean and ``null``
literals, arrays, objects (with shorthand members and spreads of ``const`` values), ``const`` names bound to such
values in the file, and dates (``new Date("…")``, ``new Date(y, m, d, …)``, ``new Date(Date.UTC(…))``). A call
with anything else (a variable, a call, a computed key) is left out whole. JSON has no dates: a ``Date`` is the
:data:`DATE_MARKER` object ``{"$date": iso}``, which the harness and the regression test revive.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tree_sitter import Node

from .fixers.typescript.syntax import parse, text_of, walk_all

__all__ = ["DATE_MARKER", "calls_in_tests"]

#: A ``Date`` in a JSON candidate: the harness and the regression test revive ``{"$date": iso}`` as ``new Date(iso)``.
DATE_MARKER = "$date"
_ABSENT = object()  # ``undefined``: an absent member


class _NotLiteral(Exception):
    """An argument that is not a plain value (a variable, a call, a computed key): the call is not replayable."""


def calls_in_tests(files: Iterable[tuple[str, str]], function: str) -> list[list[Any]]:
    """The arguments of every call of ``function`` in these (path, text) test files whose arguments are all plain
    values (see the module docstring), each call once, in file order."""
    calls: list[list[Any]] = []
    for path, text in files:
        if function not in text:
            continue
        root = parse(text, path)
        reader = _Reader(_constants(root))
        for node in sorted(walk_all(root), key=lambda n: n.start_byte):
            callee = node.child_by_field_name("function") if node.type == "call_expression" else None
            if callee is None or not _names(callee, function):
                continue
            arguments = node.child_by_field_name("arguments")
            try:
                values = [reader.value(a) for a in arguments.named_children if a.type != "comment"] if arguments else []
            except (_NotLiteral, RecursionError):
                continue
            if values and _ABSENT not in values and values not in calls:
                calls.append(values)
    return calls


def _names(callee: Node, function: str) -> bool:
    if callee.type == "identifier":
        return text_of(callee) == function
    prop = callee.child_by_field_name("property") if callee.type == "member_expression" else None
    return prop is not None and text_of(prop) == function


def _constants(root: Node) -> dict[str, Node]:
    """``const name = value`` bindings anywhere in the file; a name bound twice is ambiguous and left out."""
    found: dict[str, Node] = {}
    twice: set[str] = set()
    for node in walk_all(root):
        if node.type != "lexical_declaration" or not text_of(node).startswith("const"):
            continue
        for declarator in node.named_children:
            name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
            if declarator.type != "variable_declarator" or name is None or value is None or name.type != "identifier":
                continue
            key = text_of(name)
            if key in found:
                twice.add(key)
            found.setdefault(key, value)
    return {k: v for k, v in found.items() if k not in twice}


class _Reader:
    """Reads expressions as plain values, resolving the file's ``const`` names (never a name inside itself)."""

    def __init__(self, constants: dict[str, Node]) -> None:
        self.constants = constants
        self.resolving: set[str] = set()

    def name(self, name: str) -> Any:
        if name == "undefined":
            return _ABSENT
        node = self.constants.get(name)
        if node is None or name in self.resolving:
            raise _NotLiteral
        self.resolving.add(name)
        try:
            return self.value(node)
        finally:
            self.resolving.discard(name)

    def value(self, node: Node) -> Any:
        kind = node.type
        if kind in ("parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression"):
            return self.value(node.named_children[0])
        if kind == "identifier":
            return self.name(text_of(node))
        if kind == "string":
            return _string(node)
        if kind == "template_string":
            if any(c.type == "template_substitution" for c in node.named_children):
                raise _NotLiteral
            return text_of(node)[1:-1]
        if kind == "number":
            return _number(text_of(node))
        if kind == "unary_expression" and text_of(node).startswith("-") and node.named_children[0].type == "number":
            return -_number(text_of(node.named_children[0]))
        if kind in ("true", "false"):
            return kind == "true"
        if kind == "null":
            return None
        if kind == "undefined":
            return _ABSENT
        if kind == "array":
            return self.array(node)
        if kind == "object":
            return self.object(node)
        if kind == "new_expression":
            return self.date(node)
        raise _NotLiteral

    def spread(self, node: Node, kind: type[Any]) -> Any:
        """The value ``...x`` spreads: a list into an array, an object into an object."""
        value = self.value(node.named_children[0])
        if not isinstance(value, kind):
            raise _NotLiteral
        return value

    def array(self, node: Node) -> list[Any]:
        items: list[Any] = []
        for child in node.named_children:
            if child.type == "comment":
                continue
            if child.type == "spread_element":
                items.extend(self.spread(child, list))
                continue
            item = self.value(child)
            items.append(None if item is _ABSENT else item)
        return items

    def object(self, node: Node) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for member in node.named_children:
            if member.type == "comment":
                continue
            if member.type == "spread_element":
                found.update(self.spread(member, dict))
                continue
            if member.type == "shorthand_property_identifier":
                name, value = text_of(member), self.name(text_of(member))
            else:
                key, node_value = member.child_by_field_name("key"), member.child_by_field_name("value")
                if member.type != "pair" or key is None or node_value is None:
                    raise _NotLiteral  # a method, a getter: not a plain value
                if key.type not in ("property_identifier", "string", "number"):
                    raise _NotLiteral  # a computed key
                name, value = _string(key) if key.type == "string" else text_of(key), self.value(node_value)
            if value is _ABSENT:
                found.pop(name, None)  # an explicit undefined is an absent member
            else:
                found[name] = value
        return found

    def date(self, node: Node) -> dict[str, str]:
        constructor, arguments = node.child_by_field_name("constructor"), node.child_by_field_name("arguments")
        if constructor is None or text_of(constructor) != "Date":
            raise _NotLiteral
        children = [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []
        if len(children) == 1 and children[0].type == "call_expression":
            callee, inner = children[0].child_by_field_name("function"), children[0].child_by_field_name("arguments")
            if callee is None or text_of(callee) != "Date.UTC" or inner is None:
                raise _NotLiteral
            return {DATE_MARKER: _clock([self.value(a) for a in inner.named_children], utc=True)}
        values = [self.value(a) for a in children]
        if not values:
            return {DATE_MARKER: "2026-01-01T00:00:00.000Z"}
        if len(values) == 1 and isinstance(values[0], str):
            return {DATE_MARKER: values[0]}
        if len(values) == 1 and _is_number(values[0]):
            return {DATE_MARKER: datetime.fromtimestamp(values[0] / 1000, UTC).isoformat().replace("+00:00", "Z")}
        return {DATE_MARKER: _clock(values, utc=False)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _clock(values: list[Any], *, utc: bool) -> str:
    """``new Date(y, m, d, h, mi, s)`` (local time) or ``Date.UTC(…)`` as the ISO text JavaScript reads the same way:
    without an offset an ISO date-time is local time, with ``Z`` it is UTC. Months count from 0."""
    if not 2 <= len(values) <= 7 or not all(_is_number(v) and v == int(v) for v in values):
        raise _NotLiteral
    parts = [int(v) for v in values] + [1, 0, 0, 0, 0][len(values) - 2 :]
    year, month, day, hour, minute, second, millis = parts[:7]
    try:
        moment = datetime(year, month + 1, day, hour, minute, second, millis * 1000)
    except ValueError as exc:
        raise _NotLiteral from exc  # JavaScript rolls an out-of-range part over; not worth imitating
    return moment.isoformat(timespec="milliseconds") + ("Z" if utc else "")


def _string(node: Node) -> str:
    try:
        value = ast.literal_eval(text_of(node))  # JavaScript's plain string escapes are Python's
    except (SyntaxError, ValueError) as exc:
        raise _NotLiteral from exc
    if not isinstance(value, str):
        raise _NotLiteral
    return value


def _number(text: str) -> int | float:
    text = text.replace("_", "")
    try:
        return int(text, 0) if re.fullmatch(r"0[xXoObB][0-9a-fA-F]+|\d+", text) else float(text)
    except ValueError as exc:
        raise _NotLiteral from exc
