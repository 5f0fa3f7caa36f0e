"""Client input that does not parse (``int("week")``, a body that is not JSON): answer it as bad input.

The statement that converts the text (``days = int(request.query_params.get("days", "7"))``, ``payload =
json.loads(body)``, ``await request.json()``) is wrapped in ``try`` / ``except ValueError`` (``JSONDecodeError``
is one), and the ``except`` takes the code's own bad-input exit (:func:`.exits.bad_input_exit`). Only code that
answers a request gets this fix: elsewhere the text is not a client's, and nothing grounds an exit.
"""

from __future__ import annotations

import ast
import re

from medic_contracts import FixStrategy

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit
from .exits import bad_input_exit, exit_context
from .source import Source, add_import, function_of, parses, statement_at

__all__ = ["unparsable_input_fixes"]

_NUMBER = re.compile(r"invalid literal for (int|float)\(\)|could not convert string to (float)")
_JSON_CALLS = frozenset({"loads", "json"})


def _conversion(stmt: ast.stmt, number: str | None) -> ast.Call | None:
    """The call on the statement that parses the text: ``int(x)``/``float(x)`` for a number, ``json.loads(x)`` or
    ``request.json()`` for JSON (the first such call, in source order)."""
    for node in ast.walk(stmt):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if number is not None and isinstance(func, ast.Name) and func.id == number and len(node.args) == 1:
            return node
        if number is None and isinstance(func, ast.Attribute) and func.attr in _JSON_CALLS:
            return node
    return None


def _subject(call: ast.Call, src: Source) -> str:
    """A name for what was parsed, for the message: ``days`` from ``int(days)`` or ``.get("days")``."""
    arg = call.args[0] if call.args else None
    if isinstance(arg, ast.Name):
        return arg.id
    if isinstance(arg, ast.Call) and arg.args and isinstance(arg.args[0], ast.Constant) and isinstance(arg.args[0].value, str):
        return arg.args[0].value
    return "the request body" if arg is None else src.segment(arg)[:40]


def _sibling_run(stmt: ast.stmt, parents: list[ast.AST], number: str | None) -> list[ast.stmt]:
    """The crashing statement and the statements next to it that convert text the same way (``page = int(...)``
    then ``size = int(...)``): one ``try`` covers them all, or the next bad value crashes the same way."""
    body = next((getattr(parents[-1], f) for f in ("body", "orelse", "finalbody") if stmt in getattr(parents[-1], f, [])), [stmt])
    at = body.index(stmt)

    def converts(node: ast.stmt) -> bool:
        return isinstance(node, ast.Assign | ast.AnnAssign) and _conversion(node, number) is not None

    first = at
    while first > 0 and converts(body[first - 1]):
        first -= 1
    last = at
    while last + 1 < len(body) and converts(body[last + 1]):
        last += 1
    return list(body[first : last + 1])


def unparsable_input_fixes(text: str, line: int, facts: FailureFacts, path: str) -> list[TemplateEdit]:
    """The conversion statement at ``line`` in ``try``/``except ValueError`` taking the bad-input exit."""
    if facts.kind is not FailureKind.UNPARSABLE_INPUT:
        return []
    tree = ast.parse(text)
    found = statement_at(tree, line)
    if found is None:
        return []
    stmt, parents = found
    if not isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Return | ast.Expr):
        return []  # a compound statement would put its whole body under the except
    number_match = _NUMBER.search(facts.message)
    number = (number_match.group(1) or number_match.group(2)) if number_match else None
    call = _conversion(stmt, number)
    if call is None or function_of([*parents, stmt]) is None:
        return []
    src = Source(text)
    indent = src.indent_of(stmt.lineno)
    if not src.line_starts_statement(stmt):
        return []
    step = "\t" if "\t" in indent else "    "
    subject = _subject(call, src)
    message = f"{subject} must be a number" if number else f"{subject} is not valid JSON"
    if subject == "the request body":
        message = "The request body is not valid JSON"
    ctx = exit_context([*parents, stmt], tree, text)
    found_exit = bad_input_exit(ctx, message, indent=indent + step)
    if found_exit is None:
        return []
    exit_stmt, needs = found_exit
    if exit_stmt.startswith("raise ") and " from " not in exit_stmt:
        exit_stmt += " from None"  # the parse error is the client's, not a second failure while handling it
    run = _sibling_run(stmt, parents, number)
    start = src.offset(run[0].lineno, run[0].col_offset)
    end = src.offset(run[-1].end_lineno or run[-1].lineno, run[-1].end_col_offset or 0)
    body = text[start:end].replace("\n", "\n" + step)
    wrapped = f"try:\n{indent}{step}{body}\n{indent}except ValueError:\n{indent}{step}{exit_stmt}"
    new_text = text[:start] + wrapped + text[end:]
    if needs is not None:
        new_text = add_import(new_text, needs)
    if not parses(new_text):
        return []
    return [
        TemplateEdit(
            path=path,
            new_text=new_text,
            strategy=FixStrategy.NULL_GUARD,
            description=f"bad input: `{src.segment(call)}` that does not parse answered with `{exit_stmt.strip()}`",
            guarded=subject,
        )
    ]
