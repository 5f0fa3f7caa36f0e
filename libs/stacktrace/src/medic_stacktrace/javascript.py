"""Parse JavaScript stack traces: V8 (Node, Chrome, Edge, Deno, Bun) and Gecko/WebKit (Firefox, Safari).

V8 prints ``Type: message`` then ``    at fn (file:line:col)`` lines, innermost first, with
``at async fn``, ``at new X``, ``at eval (eval at fn (file:l:c), <anonymous>:l:c)``,
``node:internal/...`` and ``(<anonymous>)``/``(index 0)`` variants. Node's uncaught-error output
adds the throwing source line before the header and ``[cause]: ...`` / ``[errors]: [...]`` blocks
for ``Error.cause`` and ``AggregateError``. Firefox and Safari print ``fn@file:line:col`` lines
without a header. Frames come back innermost last, like Sentry's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medic_contracts import StackFrame

from .chain import ExceptionNode, flatten, main_exception_index
from .inapp import DEFAULT_IN_APP_RULES, InAppRules
from .model import ChainRelation, ParsedTrace, TraceLanguage
from .text import clean_lines

__all__ = ["looks_like_gecko", "looks_like_v8", "parse_gecko_stack", "parse_js_location", "parse_v8_stack"]

_V8_FRAME = re.compile(r"^at (?P<body>.+)$")  # on a stripped line without node's trailing "{" "," "]"
_V8_LOCATION = re.compile(r"(?::\d+$|^native$|^<anonymous>$|^index \d+$|^eval at )")
_MARKER = re.compile(r"^\s*\[(?P<marker>cause|errors)\]:")
_V8_CALL = re.compile(r"^(?P<func>.+?) \((?P<loc>.*)\)$")
_EVAL_ORIGIN = re.compile(r"^eval at (?P<func>.+?) \((?P<loc>.+?)\)(?:, .*)?$")
_MATCHING_LINES = re.compile(r"^\s*\.\.\. \d+ lines? matching cause stack trace \.\.\.\s*$")
_HEADER = re.compile(
    r"^\s*(?:\[(?:cause|errors)\]: )?(?:Uncaught (?:\(in promise\) )?)?"
    r"(?P<type>[A-Za-z_$][\w$.]*)(?: \[(?P<code>[\w-]+)\])?(?::(?: (?P<value>.*))?)?\s*$"
)
_ERRORISH = re.compile(r"(Error|Exception|Failure|Fault|Rejection|Warning|Panic|Abort)$|^Error")
_GECKO_FRAME = re.compile(r"^(?P<func>[^@]*)@(?P<loc>\S.*)$")  # on a stripped line
_GECKO_EVAL = re.compile(r"^(?P<file>.+?) line (?P<line>\d+) > (?:eval|Function)")
_GECKO_LINE = re.compile(r"^\s*[^@\s]*@\S+:\d+(?::\d+)?\s*$")
_LOC_LC = re.compile(r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+)$")
_LOC_L = re.compile(r"^(?P<file>.*?):(?P<line>\d+)$")
_MAX_VALUE = 8192


def looks_like_v8(text: str) -> bool:
    """True when ``text`` has V8 ``at ...`` frame lines with a location."""
    return any(_v8_frame_body(line) is not None for line in clean_lines(text) if "at " in line)


def looks_like_gecko(text: str) -> bool:
    """True when ``text`` has Firefox/Safari ``fn@file:line:col`` frame lines."""
    return any(_GECKO_LINE.match(line) for line in clean_lines(text) if "@" in line)


def parse_js_location(location: str) -> tuple[str, int | None, int | None]:
    """``file:line:col`` → (file, line, column); the file may itself contain colons (URLs, C:/)."""
    text = location.strip()
    match = _LOC_LC.match(text)
    if match is not None:
        return match.group("file"), int(match.group("line")), int(match.group("col"))
    match = _LOC_L.match(text)
    if match is not None:
        return match.group("file"), int(match.group("line")), None
    return text, None, None


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def _clean_function(name: str | None) -> str | None:
    if name is None:
        return None
    text = name.strip()
    if text.startswith("async "):
        text = text[len("async ") :]
    text = re.sub(r" \[as [^\]]+\]$", "", text)
    return text or None


def _v8_frame(body: str, rules: InAppRules) -> StackFrame:
    call = _v8_call(body)
    func: str | None
    if call is not None:
        func, location = call.group("func"), call.group("loc")
    else:
        func, location = None, body
    # eval frames: the useful location is where eval was called, possibly nested
    while len(location) <= 1000:  # eval origins are short; the pattern is not worth running on more
        origin = _EVAL_ORIGIN.match(location)
        if origin is None:
            break
        inner = _v8_call(f"{origin.group('func')} ({origin.group('loc')})")
        location = inner.group("loc") if inner is not None else origin.group("loc")
        nested = _EVAL_ORIGIN.match(location)
        if nested is None:
            break
    if location.startswith("index ") or location in ("native", "<anonymous>"):
        file, line, col = "<anonymous>" if location != "native" else "native", None, None
    else:
        file, line, col = parse_js_location(location)
    file = file or "<anonymous>"
    return StackFrame(
        file=file, function=_clean_function(func), line=_positive(line), column=_positive(col), in_app=rules.is_in_app(file)
    )


@dataclass
class _V8Block:
    header: list[str] = field(default_factory=list)
    frames: list[StackFrame] = field(default_factory=list)  # innermost first while reading


def _v8_call(body: str) -> re.Match[str] | None:
    # only bodies ending in ")" can be calls: keeps the lazy split linear on hostile text
    return _V8_CALL.match(body) if body.endswith(")") else None


def _v8_frame_body(line: str) -> str | None:
    """The part after ``at`` when ``line`` is a V8 frame (not prose that starts with "at")."""
    text = line.strip().rstrip("{,]").rstrip()
    match = _V8_FRAME.match(text)
    if match is None:
        return None
    body = match.group("body")
    call = _v8_call(body)
    location = call.group("loc") if call is not None else body
    return body if _V8_LOCATION.search(location) else None


def _header_node(lines: list[str]) -> tuple[ExceptionNode, str | None]:
    """The ``Type: message`` block above a run of frames; messages may span several lines."""
    marker: str | None = None
    for line in lines:
        found = _MARKER.match(line)
        if found is not None:
            marker = found.group("marker")
    cleaned = [ln for ln in lines if ln.strip() and not re.fullmatch(r"\s*\[(cause|errors)\]: \[\s*", ln)]
    start = None
    for wanted_errorish in (True, False):
        for i, line in enumerate(cleaned):
            match = _HEADER.match(line)
            if match is None:
                continue
            if wanted_errorish and not _ERRORISH.search(match.group("type")):
                continue
            start = i
            break
        if start is not None:
            break
    if start is None:
        value = "\n".join(ln.strip() for ln in cleaned)
        return ExceptionNode(type="Error", value=value[:_MAX_VALUE]), marker
    match = _HEADER.match(cleaned[start])
    assert match is not None  # matched in the loop above
    rest = [ln.strip() for ln in cleaned[start + 1 :]]
    value = "\n".join([match.group("value") or "", *rest]).strip("\n")
    type_name = match.group("type")
    module, _, short = type_name.rpartition(".")
    node = ExceptionNode(type=short or type_name, value=value[:_MAX_VALUE], module=module or None)
    if type_name == "AggregateError":
        node.is_group = True
    return node, marker


def parse_v8_stack(text: str, *, rules: InAppRules = DEFAULT_IN_APP_RULES) -> ParsedTrace:
    """Parse a V8 ``error.stack`` (or Node's uncaught-error output) into a :class:`ParsedTrace`."""
    lines = clean_lines(text)
    blocks: list[_V8Block] = []
    pending: list[str] = []
    current: _V8Block | None = None
    for line in lines:
        if _MATCHING_LINES.match(line):
            continue
        body = _v8_frame_body(line)
        if body is not None:
            if current is None:
                current = _V8Block(header=pending)
                pending = []
                blocks.append(current)
            current.frames.append(_v8_frame(body, rules))
            continue
        if current is not None:
            current = None
            pending = []
        if not line.strip():
            pending = []  # a blank line ends whatever came before (Node's source excerpt)
            continue
        pending.append(line)
    if not blocks:
        return ParsedTrace(language=TraceLanguage.JAVASCRIPT, platform="javascript")
    nodes: list[tuple[ExceptionNode, str | None]] = []
    for block in blocks:
        node, marker = _header_node(block.header)
        node.frames = list(reversed(block.frames))
        nodes.append((node, marker))
    root, _ = nodes[0]
    holder = root
    group_owner: ExceptionNode | None = root if root.is_group else None
    for node, marker in nodes[1:]:
        if marker == "errors" or (marker is None and group_owner is not None and group_owner.members):
            if group_owner is None:
                group_owner = holder
                group_owner.is_group = True
            group_owner.members.append(node)
        elif marker == "cause":
            holder.older = node
            holder.older_relation = ChainRelation.CAUSE
            holder = node
        else:
            # an unrelated trace later in the text (another log record): keep the first one only
            break
    exceptions = flatten(root)
    return ParsedTrace(
        language=TraceLanguage.JAVASCRIPT,
        exceptions=exceptions,
        main_index=main_exception_index(exceptions),
        platform="javascript",
    )


def _gecko_frame(func: str, location: str, rules: InAppRules) -> StackFrame:
    name = func.strip()
    # async/promise markers: "async*foo", "promise callback*foo"
    if "*" in name:
        name = name.rsplit("*", 1)[1]
    evaluated = _GECKO_EVAL.match(location)
    file: str
    line: int | None
    col: int | None
    if evaluated is not None:
        file, line, col = evaluated.group("file"), int(evaluated.group("line")), None
    else:
        file, line, col = parse_js_location(location)
    if name in ("global code", "eval code", "module code"):
        name = ""
    file = file or "<anonymous>"
    return StackFrame(file=file, function=name or None, line=_positive(line), column=_positive(col), in_app=rules.is_in_app(file))


def parse_gecko_stack(
    text: str, *, rules: InAppRules = DEFAULT_IN_APP_RULES, error_type: str = "Error", error_value: str = ""
) -> ParsedTrace:
    """Parse a Firefox/Safari ``error.stack`` (``fn@file:line:col`` lines, no header).

    The stack holds no exception name or message; pass them as ``error_type``/``error_value`` when
    the caller has them (a log record's ``error.type``/``error.message``).
    """
    frames: list[StackFrame] = []
    header: list[str] = []
    for line in clean_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        match = _GECKO_FRAME.match(stripped)
        if match is not None and (":" in match.group("loc") or match.group("loc") == "[native code]"):
            frames.append(_gecko_frame(match.group("func"), match.group("loc"), rules))
        elif stripped == "[native code]":
            frames.append(rules.classify(StackFrame(file="[native code]"), None))
        elif not frames:
            header.append(stripped)
    if not frames:
        return ParsedTrace(language=TraceLanguage.JAVASCRIPT, platform="javascript")
    node = ExceptionNode(type=error_type, value=error_value)
    if header and error_type == "Error" and not error_value:
        parsed, _ = _header_node(header)
        node = parsed
    node.frames = list(reversed(frames))
    exceptions = flatten(node)
    return ParsedTrace(language=TraceLanguage.JAVASCRIPT, exceptions=exceptions, main_index=0, platform="javascript")
