"""Frames from a raw trace when the event carries no structured frames.

``medic_stacktrace`` (libs/stacktrace) is the full parser (chained exceptions, ExceptionGroup,
browser formats, Sentry payloads) and is tried first. This module is the fallback for the two
shapes every target produces, Python tracebacks and V8 (Node) stacks, when that parser finds none.
"""

from __future__ import annotations

import re

from medic_contracts import StackFrame

__all__ = ["frames_from_text"]

_PY = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>.+))?$')
_V8 = re.compile(r"^\s*at (?:(?:async )?(?P<fn>[^\s(][^(]*?) \()?(?P<file>[^()\s]+?):(?P<line>\d+)(?::(?P<col>\d+))?\)?\s*$")


def frames_from_text(text: str) -> tuple[StackFrame, ...]:
    """Frames of the last exception in ``text``, innermost last (Sentry's order)."""
    lines = text.splitlines()
    if any(_PY.match(line) for line in lines):
        # The last "Traceback" block is the exception that was raised last (chains print causes first).
        start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=0)
        frames = []
        block = lines[start:]
        for i, line in enumerate(block):
            match = _PY.match(line)
            if match:
                context = block[i + 1].strip() if i + 1 < len(block) and not _PY.match(block[i + 1]) else None
                frames.append(
                    StackFrame(
                        file=match["file"],
                        line=int(match["line"]),
                        function=(match["fn"] or "").strip() or None,
                        context_line=context,
                    )
                )
        return tuple(frames)
    v8 = []
    for line in lines:
        match = _V8.match(line)
        if match:
            v8.append(
                StackFrame(
                    file=match["file"].removeprefix("file://"),
                    line=int(match["line"]),
                    column=int(match["col"]) if match["col"] else None,
                    function=(match["fn"] or "").strip() or None,
                )
            )
    return tuple(reversed(v8))  # V8 prints innermost first
