"""Request text used as a number (``nights.toFixed is not a function``): parse it where it is read, and reject
input that is not a number with the function's own bad-input exit (its 4xx rejection, else 400).

Only a variable declared from request input (``req.query``, ``searchParams.get(...)``, ``request.headers``...)
is parsed: a value of any other origin being the wrong type is a bug elsewhere, and no edit is made.
"""

from __future__ import annotations

import re

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .conventions import single_declaration
from .exits import early_exit, exit_context
from .syntax import checked_edit, guard_after, parse, statement_at, text_of

__all__ = ["NUMBER_METHOD", "parse_input_number"]

#: ``X.toFixed is not a function``: methods only numbers have, so ``X`` was not a number.
NUMBER_METHOD = re.compile(r"\b([A-Za-z_$][\w$]*)\.(?:toFixed|toPrecision|toExponential) is not a function")
_INPUT = re.compile(r"\b(req|request)\.(query|params|headers|body)\b|searchParams\.get\(|\bquery\.|\bparams\.")


def parse_input_number(text: str, line: int, facts: FailureFacts, path: str) -> TemplateEdit | None:
    """``const n = Number(<input>)`` and ``if (!Number.isFinite(n)) <bad-input exit>`` after it; None otherwise."""
    match = NUMBER_METHOD.search(facts.message)
    if match is None:
        return None
    name = match.group(1)
    root = parse(text, path)
    stmt = statement_at(root, line - 1)
    if stmt is None:
        return None
    ctx = exit_context(stmt, path)
    if ctx.function is None:
        return None
    declarator = single_declaration(ctx.function, name)
    value = declarator.child_by_field_name("value") if declarator is not None else None
    holder = declarator.parent if declarator is not None else None
    if declarator is None or value is None or holder is None or not _INPUT.search(text_of(value)):
        return None
    if holder.type not in ("lexical_declaration", "variable_declaration") or holder.start_byte > stmt.start_byte:
        return None
    ident = declarator.child_by_field_name("name")
    assert ident is not None
    wrong = FailureFacts(kind=FailureKind.WRONG_TYPE, exception_type=facts.exception_type, message=facts.message)
    exit_stmt = early_exit(ctx, ident, "none", wrong, root)
    if exit_stmt is None:
        return None
    data = text.encode()
    check = guard_after(data, holder, f"!Number.isFinite({name})", exit_stmt)
    if check is None:
        return None
    new = (
        data[: value.start_byte]
        + f"Number({text_of(value)})".encode()
        + data[value.end_byte : holder.end_byte]
        + check.encode()
        + data[holder.end_byte :]
    )
    new_text = new.decode()
    shown = exit_stmt.replace("\n", " ")
    return checked_edit(
        path,
        new_text,
        description=f"parse input: {name} = Number(...) and `if (!Number.isFinite({name})) {shown}`",
        guarded=name,
    )
