"""Template fixes for TypeScript and JavaScript, located with tree-sitter.

The statement holding the diagnosed line is found in the syntax tree (:mod:`.syntax`). Value-level
variants come first (:mod:`.values`: a missing derived value is not an error), then the guard with
an early exit suited to the context (:mod:`.guard`, :mod:`.exits`): a Next.js route handler returns
a 404 response, an Express handler ``res.status(404).json(...)``, a loop ``continue``s, other
functions ``return null``. The rewritten file must parse without errors.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...failure import FailureFacts, FailureKind
from ..edits import TemplateEdit, distinct
from .guard import exit_guard
from .parse import parse_input_number
from .syntax import parses_cleanly
from .values import value_variants

__all__ = ["parses_cleanly", "typescript_template_fixes"]


def _fixes_at(text: str, line: int, facts: FailureFacts, path: str) -> Iterator[TemplateEdit]:
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
