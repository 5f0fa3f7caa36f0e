"""One entry point for text traces: detect the format and parse it."""

from __future__ import annotations

from .inapp import DEFAULT_IN_APP_RULES, InAppRules
from .javascript import looks_like_gecko, looks_like_v8, parse_gecko_stack, parse_v8_stack
from .model import ParsedException, ParsedTrace, TraceLanguage
from .python import looks_like_python, parse_python_traceback

__all__ = ["detect_language", "parse_text", "parse_trace"]


def detect_language(text: str) -> TraceLanguage:
    """Which runtime printed ``text``: Python, JavaScript (V8 or Gecko/WebKit), or unknown."""
    if looks_like_python(text):
        return TraceLanguage.PYTHON
    if looks_like_v8(text) or looks_like_gecko(text):
        return TraceLanguage.JAVASCRIPT
    return TraceLanguage.UNKNOWN


def parse_trace(
    text: str,
    *,
    rules: InAppRules = DEFAULT_IN_APP_RULES,
    error_type: str | None = None,
    error_value: str | None = None,
) -> ParsedTrace:
    """Parse a stack trace of any supported format (Python, V8/Node, Firefox/Safari).

    ``error_type``/``error_value`` (a log record's ``error.type``/``error.message``) name the
    exception when the text does not (Firefox/Safari stacks have no header), and give a frameless
    exception when the text holds no trace at all. Text with neither gives an empty trace.
    """
    trace: ParsedTrace
    language = detect_language(text)
    if language is TraceLanguage.PYTHON:
        trace = parse_python_traceback(text, rules=rules)
    elif looks_like_v8(text):
        trace = parse_v8_stack(text, rules=rules)
    elif looks_like_gecko(text):
        trace = parse_gecko_stack(text, rules=rules, error_type=error_type or "Error", error_value=error_value or "")
    else:
        trace = ParsedTrace(language=TraceLanguage.UNKNOWN)
    if not trace.found and error_type:
        only = ParsedException(type=error_type, value=error_value or "")
        return ParsedTrace(language=trace.language, exceptions=(only,), main_index=0, platform=trace.platform)
    return trace


#: The same function under the name early callers used (``medic_stacktrace.parse_text(raw).frames``).
parse_text = parse_trace
