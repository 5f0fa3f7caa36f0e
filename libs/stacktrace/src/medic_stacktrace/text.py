"""Bounded, cleaned lines of trace text: error text is attacker-controlled, so size is capped
before any regular expression sees it (no quadratic backtracking on a megabyte-long line)."""

from __future__ import annotations

import re

__all__ = ["MAX_LINE", "MAX_LINES", "MAX_TEXT", "clean_lines"]

MAX_TEXT = 1_000_000  # characters of trace text considered
MAX_LINES = 20_000  # lines considered (a RecursionError traceback is ~3,000)
MAX_LINE = 4_096  # characters of one line considered
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def clean_lines(text: str) -> list[str]:
    """``text`` as lines without ANSI colours, each cut to ``MAX_LINE``; when the text is too long
    its beginning and end are kept (a Python traceback names the exception last)."""
    if len(text) > MAX_TEXT:
        half = MAX_TEXT // 2
        text = text[:half] + "\n" + text[-half:]
    lines = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > MAX_LINES:
        half = MAX_LINES // 2
        lines = lines[:half] + lines[-half:]
    return [line if len(line) <= MAX_LINE else line[:MAX_LINE] for line in lines]
