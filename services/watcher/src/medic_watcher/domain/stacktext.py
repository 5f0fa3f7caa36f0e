"""Stack-trace text to frames, for log lines that carry a trace as text (``error.stack``).

Delegates to the shared ``medic_stacktrace`` parser (Python tracebacks with chains and exception
groups, V8/Node, Firefox/Safari); the watcher keeps the main exception and its frames.
"""

from __future__ import annotations

from medic_contracts import StackFrame
from medic_stacktrace import parse_trace

__all__ = ["parse_stack"]


def parse_stack(
    text: str, *, error_type: str | None = None, error_value: str | None = None
) -> tuple[str | None, str | None, tuple[StackFrame, ...]]:
    """(exception type, message, frames innermost last) from a trace's text; unknown shapes give no frames."""
    trace = parse_trace(text, error_type=error_type, error_value=error_value)
    main = trace.main
    if main is None:
        return error_type, error_value, ()
    return main.type, main.value, main.frames
