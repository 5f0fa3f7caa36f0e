"""A code context by language, and whether a called function can return nothing (read from its source)."""

from __future__ import annotations

import re

from .code import LOOKUP_CALL, CodeContext
from .python_code import python_context
from .typescript_code import typescript_context

__all__ = ["code_context", "returns_nothing_at"]

_TS_EXT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
_MAYBE_NOTHING = re.compile(
    r"(?:\breturn\s+None\b|\breturn\s*$|\breturn\s+null\b|\breturn\s+undefined\b|->\s*Optional\[|->\s*[\w\[\], .]*\|\s*None|"
    r"\|\s*null\b|\|\s*undefined\b|\?\?\s*null|\bor\s+None\b)"
)


def code_context(source: str, *, file: str, line: int) -> CodeContext:
    """The code context of ``line`` in ``file`` by its language (Python ``ast`` or tree-sitter)."""
    if file.endswith(_TS_EXT):
        return typescript_context(source, file=file, line=line)
    return python_context(source, file=file, line=line)


def returns_nothing_at(source: str, *, file: str, line: int) -> tuple[int, str] | None:
    """The first line (number, text) of the function at ``line`` that can return nothing, or a lookup.

    Only the function's first 80 lines are read; None when ``line`` is in no function or none qualifies.
    """
    callee = code_context(source, file=file, line=line)
    if callee.function is None:
        return None
    lines = source.splitlines()
    first, last = callee.function.first, min(callee.function.last, callee.function.first + 80)
    for number in range(first, last + 1):
        text = lines[number - 1]
        if _MAYBE_NOTHING.search(text) or LOOKUP_CALL.search(text):
            return number, text
    return None
