"""A request body that is not JSON (``SyntaxError: Unexpected end of JSON input`` from ``await request.json()``):
bad input, answered with the handler's own 4xx (else 400) instead of a 500.

``const body = await request.json();`` becomes ``const body = await request.json().catch(() => undefined);``
followed by ``if (body === undefined) <bad-input exit>``: the declaration keeps its name and type, and only a
body that did not parse takes the exit. Only a route handler (or an Express-style handler) reading its own
request's body gets this fix.
"""

from __future__ import annotations

import dataclasses
import re

from tree_sitter import Node

from medic_contracts import FixStrategy

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .exits import early_exit, exit_context
from .syntax import guard_after, parse, parses_cleanly, statement_at, text_of

__all__ = ["unparsable_body"]

_JSON_MESSAGE = re.compile(r"JSON", re.I)
_READ_BODY = re.compile(r"^await\s+(?:request|req)\.json\(\s*\)$")


def _declarator(stmt: Node) -> Node | None:
    """The one declarator of ``const x = await request.json();``."""
    if stmt.type not in ("lexical_declaration", "variable_declaration"):
        return None
    declarators = [c for c in stmt.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    value = declarators[0].child_by_field_name("value")
    name = declarators[0].child_by_field_name("name")
    if value is None or name is None or name.type != "identifier" or not _READ_BODY.match(text_of(value)):
        return None
    return declarators[0]


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
    ident = declarator.child_by_field_name("name")
    value = declarator.child_by_field_name("value")
    assert ident is not None and value is not None
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
        data[: value.end_byte]
        + b".catch(() => undefined)"
        + data[value.end_byte : stmt.end_byte]
        + check.encode()
        + data[stmt.end_byte :]
    )
    new_text = new.decode()
    if not parses_cleanly(new_text, path):
        return None
    return TemplateEdit(
        path=path,
        new_text=new_text,
        strategy=FixStrategy.NULL_GUARD,
        description=f"bad input: a body that is not JSON answered with `{exit_stmt.replace(chr(10), ' ')}`",
        guarded=name,
    )
