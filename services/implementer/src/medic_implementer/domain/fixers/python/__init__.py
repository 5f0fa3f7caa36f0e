"""Template fixes for Python (after SapFix): guards inserted before the failing statement.

The failing statement is found with :mod:`ast` from the diagnosed line (:mod:`.source`), and the expression
that was None there from the exception text, the frame's vars and the statement's tree (:mod:`.culprit`).
Value-level variants come first (:mod:`.values`: a missing optional value is not an error, a documented
default fills in for a lookup that found nothing), then rewrites that split the statement (:mod:`.rewrites`),
then the guard with an early exit (:mod:`.guard`, :mod:`.exits`) that copies the code's own exits and
respects its return annotation (:mod:`.conventions`), or no guard at all when nothing grounds one. Edits
are made on the source text (formatting and comments stay) and the result must parse.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit, distinct
from .guard import exit_guards
from .inputs import unparsable_input_fixes
from .rewrites import statement_rewrites
from .source import parses
from .values import value_variants

__all__ = ["python_template_fixes"]


def _fixes_at(text: str, line: int, facts: FailureFacts, path: str) -> Iterator[TemplateEdit]:
    yield from unparsable_input_fixes(text, line, facts, path)
    yield from value_variants(text, line, facts, path)
    yield from statement_rewrites(text, line, facts, path)
    yield from exit_guards(text, line, facts, path)


def python_template_fixes(*, path: str, text: str, lines: list[int], facts: FailureFacts) -> list[TemplateEdit]:
    """Template edits for the fault at any of ``lines`` (diagnosed lines first); distinct results only."""
    if facts.kind in (FailureKind.UNKNOWN, FailureKind.WRONG_SHAPE, FailureKind.INVALID_DATE) or not parses(text):
        return []
    total = len(text.splitlines())
    return distinct(edit for line in lines if 1 <= line <= total for edit in _fixes_at(text, line, facts, path))
