"""Template fixes for TypeScript and JavaScript, located with tree-sitter.

The statement holding the diagnosed line is found in the syntax tree (:mod:`.syntax`). Request text used as
a number is parsed where it is read (:mod:`.parse`); a query value of the other shape (one value or a
repeated one) is normalised where it is read (:mod:`.query`); an optional field made into a Date is written only when
present, as its sibling optional fields are (:mod:`.optional`). Value-level variants come first (:mod:`.values`: a
missing derived value inside a larger answer is not an error), then the guard on the value that was missing
(:mod:`.guard`) with an early exit copying the function's own exits (:mod:`.exits`, :mod:`.conventions`)
and respecting its declared types (:mod:`.types`). The rewritten file must parse without errors.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit, distinct
from .body import unparsable_body
from .guard import exit_guard
from .optional import optional_field_line
from .parse import parse_input_number
from .query import repeated_query_value
from .syntax import parses_cleanly
from .values import value_variants

__all__ = ["parses_cleanly", "typescript_template_fixes"]


def _fixes_at(text: str, line: int, facts: FailureFacts, path: str) -> Iterator[TemplateEdit]:
    if facts.kind is FailureKind.UNPARSABLE_INPUT:
        tolerant = unparsable_body(text, line, facts, path)
        if tolerant is not None:
            yield tolerant
        return
    if facts.kind is FailureKind.WRONG_SHAPE:
        normalised = repeated_query_value(text, line, facts, path)
        if normalised is not None:
            yield normalised
        return
    if facts.kind is FailureKind.INVALID_DATE:
        kept_out = optional_field_line(text, line, path)
        if kept_out is not None:
            yield kept_out
        return
    if facts.kind is FailureKind.WRONG_TYPE:
        parsed = parse_input_number(text, line, facts, path)
        if parsed is not None:
            yield parsed
        return
    yield from value_variants(text, line, facts, path)
    guard = exit_guard(text, line, facts, path)
    if guard is not None:
        yield guard


def typescript_template_fixes(*, path: str, text: str, lines: list[int], facts: FailureFacts) -> list[TemplateEdit]:
    """Template edits for the fault at any of ``lines`` (diagnosed lines first); distinct results only."""
    if facts.kind is FailureKind.UNKNOWN or not parses_cleanly(text, path):
        return []
    total = text.count("\n") + 1
    return distinct(edit for line in lines if 1 <= line <= total for edit in _fixes_at(text, line, facts, path))
