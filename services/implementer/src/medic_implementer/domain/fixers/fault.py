"""What the Python and TypeScript fixers decide the same way about a fault, whatever the syntax tree."""

from __future__ import annotations

import re

from medic_contracts import FixStrategy

from ..failure import FailureFacts, FailureKind

__all__ = ["DOCUMENTS_A_THROW", "STRATEGY", "is_hinted", "not_found_message"]

#: A doc comment or docstring that says the function throws or raises (its contract has an error for bad input).
DOCUMENTS_A_THROW = re.compile(r"\b(?:throws?|raises?)\b", re.I)

# The guard each fault shape gets (a missing row and a mistyped value are guarded like a None).
STRATEGY = {
    FailureKind.NONE_VALUE: FixStrategy.NULL_GUARD,
    FailureKind.MISSING_KEY: FixStrategy.MISSING_KEY_GUARD,
    FailureKind.OUT_OF_BOUNDS: FixStrategy.BOUNDS_GUARD,
    FailureKind.DIVIDE_BY_ZERO: FixStrategy.ZERO_GUARD,
    FailureKind.EMPTY_ITERABLE: FixStrategy.EMPTY_ITERABLE_GUARD,
    FailureKind.NO_ROW: FixStrategy.NULL_GUARD,
    FailureKind.WRONG_TYPE: FixStrategy.NULL_GUARD,
}


def is_hinted(expression: str, hint: str) -> bool:
    """True when ``expression`` is the one the diagnosis named, whitespace aside."""
    return re.sub(r"\s+", "", expression) == re.sub(r"\s+", "", hint)


def not_found_message(name: str, role: str, facts: FailureFacts) -> str:
    """What an early exit says when the guarded value is missing (``role`` "empty": nothing in it)."""
    return facts.exit_message or (f"No {name.lower()} found" if role == "empty" else f"{name} not found")
