"""Stack-trace text to frames, for log lines that carry a trace as text (``error.stack``).

Covers Python tracebacks (the last exception of a chain) and V8/Node ``at fn (file:line:col)``
traces, plus Firefox/Safari ``fn@file:line:col``. The shared ``medic_stacktrace`` library is the
fuller parser; this keeps the watcher self-sufficient for the shapes its sources deliver.
"""

from __future__ import annotations

import re

from medic_contracts import StackFrame

from .paths import guess_in_app

__all__ = ["parse_stack"]

_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>.+))?$')
_PY_EXC = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Group|[A-Z]\w*)):? ?(?P<value>.*)$")
_V8_FRAME = re.compile(r"^\s*at (?:(?P<fn>.+?) \((?P<loc>.+)\)|(?P<loc2>.+))$")
_GECKO_FRAME = re.compile(r"^\s*(?P<fn>[^@\s]*)@(?P<loc>.+)$")
_LOC = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


def _frame(file: str, fn: str | None, line: str | None, col: str | None) -> StackFrame:
    return StackFrame(
        file=file,
        function=fn or None,
        line=int(line) if line else None,
        column=int(col) if col else None,
        in_app=guess_in_app(file),
    )


def parse_stack(text: str) -> tuple[str | None, str | None, tuple[StackFrame, ...]]:
    """(exception type, message, frames innermost last) from a trace's text; unknown shapes give no frames."""
    lines = text.splitlines()
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        # The last traceback block is the exception that was finally raised.
        start = max(i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)"))
        frames = []
        exc_type = exc_value = None
        for line in lines[start + 1 :]:
            if m := _PY_FRAME.match(line):
                frames.append(_frame(m["file"], m["fn"], m["line"], None))
            elif line and not line.startswith(" ") and (m2 := _PY_EXC.match(line.strip())):
                exc_type, exc_value = m2["type"], m2["value"]
                break
        return exc_type, exc_value, tuple(frames)
    v8_frames: list[StackFrame] = []
    head_type = head_value = None
    for index, line in enumerate(lines):
        if m := _V8_FRAME.match(line):
            loc = m["loc"] or m["loc2"] or ""
            if lm := _LOC.match(loc):
                v8_frames.append(_frame(lm["file"], m["fn"], lm["line"], lm["col"]))
            else:
                v8_frames.append(_frame(loc, m["fn"], None, None))
        elif (m3 := _GECKO_FRAME.match(line)) and (lm := _LOC.match(m3["loc"])):
            v8_frames.append(_frame(lm["file"], m3["fn"], lm["line"], lm["col"]))
        elif index == 0 and ":" in line:
            head_type, _, head_value = line.partition(":")
            head_type, head_value = head_type.strip(), head_value.strip()
    # V8 and Gecko list the innermost frame first; contracts want it last.
    return head_type, head_value, tuple(reversed(v8_frames))
