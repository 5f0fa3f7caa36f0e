"""What failed, read from a diagnosis: the kind of fault, the value involved, the exit to use.

A :class:`DiagnosisReady` carries the issue title (usually ``Type: message``), the root cause in
words, a fix hint and evidence. Template fixers need a few precise facts from that text — which
property was read from a null value, which key was missing, which HTTP status and message the
early exit should use — and :func:`read_failure` extracts them. All of it is attacker-influenced
text: it can only *select* among the edits a template makes, never name a file to write.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from medic_contracts import CODE_EVIDENCE_KINDS, DiagnosisReady, FixStrategy, RequestContext, StackFrame

__all__ = [
    "FailureFacts",
    "FailureKind",
    "crash_line",
    "entity_name",
    "evidence_files",
    "frame_from_evidence",
    "read_failure",
    "repo_relative",
    "request_from_evidence",
]


class FailureKind(StrEnum):
    """The shape of the fault a template can guard against."""

    NONE_VALUE = "none_value"
    MISSING_KEY = "missing_key"
    OUT_OF_BOUNDS = "out_of_bounds"
    DIVIDE_BY_ZERO = "divide_by_zero"
    EMPTY_ITERABLE = "empty_iterable"
    NO_ROW = "no_row"  # an ORM "exactly one row" query found none
    WRONG_TYPE = "wrong_type"  # text from a request used as a number
    UNPARSABLE_INPUT = "unparsable_input"  # client input that does not parse: int("week"), an empty JSON body
    WRONG_SHAPE = "wrong_shape"  # a method the value's shape lacks (`tags.map is not a function`: text, not a list)
    INVALID_DATE = "invalid_date"  # a Date made of an absent or malformed value (`RangeError: Invalid time value`)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FailureFacts:
    """The facts a template fixer works from."""

    kind: FailureKind
    exception_type: str | None
    message: str
    property_name: str | None = None
    missing_key: str | None = None
    hinted_expression: str | None = None
    exit_status: int | None = None
    exit_message: str | None = None
    none_names: frozenset[str] = frozenset()  # locals the crashing frame reports as None
    bound_names: frozenset[str] = frozenset()  # locals the crashing frame reports holding a value
    removed_lines: tuple[str, ...] = ()  # lines the suspect commit removed (its diff in the blame evidence)


_STRATEGY_KIND = {
    FixStrategy.NULL_GUARD: FailureKind.NONE_VALUE,
    FixStrategy.MISSING_KEY_GUARD: FailureKind.MISSING_KEY,
    FixStrategy.BOUNDS_GUARD: FailureKind.OUT_OF_BOUNDS,
    FixStrategy.ZERO_GUARD: FailureKind.DIVIDE_BY_ZERO,
    FixStrategy.EMPTY_ITERABLE_GUARD: FailureKind.EMPTY_ITERABLE,
}

_PROPERTY = (
    re.compile(r"Cannot read propert(?:y|ies) of (?:null|undefined) \(reading ['\"]([^'\"]{1,100})['\"]\)"),
    re.compile(r"Cannot read property ['\"]([^'\"]{1,100})['\"] of (?:null|undefined)"),
    re.compile(r"'NoneType' object has no attribute ['\"]([^'\"]{1,100})['\"]"),
    re.compile(r"null is not an object \(evaluating '[^']*?\.([A-Za-z_$][\w$]*)'\)"),
    re.compile(r"can't access property [\"']([^\"']{1,100})[\"'],? \S+ is (?:null|undefined)"),
    re.compile(r"Cannot destructure property '([^']{1,100})' of '[^']{1,200}' as it is (?:null|undefined)"),
)
# The engine names the expression that was undefined (V8's destructuring, Safari's "evaluating"): the one to guard.
_NAMED = re.compile(r"Cannot destructure (?:property '[^']{1,100}' of )?'([^']{1,200})' as it is (?:null|undefined)")
_NONE = re.compile(
    r"Cannot read propert|'NoneType' object|of null|of undefined|is null|is undefined|is not an object|NoneType|"
    r"Cannot convert undefined or null to object",
    re.I,
)
_KEY = re.compile(r"KeyError:?\s*['\"]([^'\"]{1,200})['\"]")
_BOUNDS = re.compile(r"IndexError|index out of range|out of bounds|RangeError: Invalid array length", re.I)
_ZERO = re.compile(r"ZeroDivisionError|division by zero|divide by zero|modulo by zero|Division by zero", re.I)
_EMPTY = re.compile(
    r"empty sequence|iterable argument is empty|arg is an empty|requires at least one data point|"
    r"Reduce of empty array|reduce\(\) of empty|empty iterable|StatisticsError",
    re.I,
)
_NO_ROW = re.compile(r"NoResultFound|No row was found when one was required|DoesNotExist|matching query does not exist")
_WRONG_TYPE = re.compile(
    r"unsupported operand type\(s\) for [^:]+: '(?:str|int|float)' and '(?:str|int|float)'|"
    r"not supported between instances of '(?:str|int|float)' and '(?:str|int|float)'|"
    r"'(?:str|float)' object cannot be interpreted as an integer|slice indices must be integers|"
    r"(?:list|tuple) indices must be integers or slices, not (?:str|float)|"
    r"\.(?:toFixed|toPrecision|toExponential) is not a function"  # JavaScript: text where a number was meant
)
_UNPARSABLE = re.compile(
    r"invalid literal for (?:int|float)\(\) with base \d+|could not convert string to float|Expecting value: line \d+|"
    r"Unexpected end of JSON input|is not valid JSON|Unexpected token .{1,40} in JSON|Unterminated string in JSON"
)
_WRONG_SHAPE = re.compile(r"\.[A-Za-z_$][\w$]* is not a function")
_INVALID_DATE = re.compile(r"Invalid time value|Invalid Date\b")
_EXC = re.compile(r"\b([A-Z][A-Za-z]*(?:Error|Exception))\b:?\s*(.*)")
_BACKTICK = re.compile(r"`([^`\n]{1,200})`")
_STATUS = re.compile(r"\b(?:return|raise|respond(?:s|ing)? with|status)\D{0,20}\b([45]\d\d)\b", re.I)
_QUOTED = re.compile(r"[\"'\u2018\u201c]([A-Z][^\"'\u2019\u201d\n]{2,80})[\"'\u2019\u201d]")


def _texts(diagnosis: DiagnosisReady) -> list[str]:
    texts = [diagnosis.issue.title, diagnosis.root_cause, diagnosis.fix_hint or ""]
    for item in diagnosis.evidence:
        texts.append(item.summary)
        if item.detail:
            texts.append(item.detail)
    return [t for t in texts if t]


def read_failure(diagnosis: DiagnosisReady) -> FailureFacts:
    """The failure facts of a diagnosis (kind from the message, else from the suggested strategy)."""
    texts = _texts(diagnosis)
    joined = "\n".join(texts)
    exc_type, message = None, diagnosis.issue.title
    match = _EXC.search(diagnosis.issue.title) or _EXC.search(joined)
    if match:
        exc_type, message = match.group(1), match.group(2).strip() or diagnosis.issue.title
    prop = next((m.group(1) for p in _PROPERTY for t in texts if (m := p.search(t))), None)
    key_match = next((m for t in texts if (m := _KEY.search(t))), None)

    if _NO_ROW.search(joined):
        kind = FailureKind.NO_ROW
    elif _WRONG_TYPE.search(joined):
        kind = FailureKind.WRONG_TYPE
    elif _UNPARSABLE.search(diagnosis.issue.title):
        kind = FailureKind.UNPARSABLE_INPUT
    elif _ZERO.search(joined):
        kind = FailureKind.DIVIDE_BY_ZERO
    elif _EMPTY.search(joined):
        kind = FailureKind.EMPTY_ITERABLE
    elif key_match or exc_type == "KeyError":
        kind = FailureKind.MISSING_KEY
    elif _BOUNDS.search(joined):
        kind = FailureKind.OUT_OF_BOUNDS
    elif prop or _NONE.search(joined):
        kind = FailureKind.NONE_VALUE
    elif _WRONG_SHAPE.search(diagnosis.issue.title):
        kind = FailureKind.WRONG_SHAPE
    elif _INVALID_DATE.search(diagnosis.issue.title):
        kind = FailureKind.INVALID_DATE
    else:
        kind = _STRATEGY_KIND.get(diagnosis.fix_strategy, FailureKind.UNKNOWN)
    if diagnosis.fix_strategy in _STRATEGY_KIND and kind is FailureKind.UNKNOWN:
        kind = _STRATEGY_KIND[diagnosis.fix_strategy]

    hint = diagnosis.fix_hint or ""
    hinted = _BACKTICK.search(hint)
    status = _STATUS.search(hint)
    quoted = _QUOTED.search(hint)
    missing_key = key_match.group(1) if key_match else None
    if missing_key is None and exc_type == "KeyError":
        missing_key = message.strip("'\" ") or None
    none_names, bound_names = _frame_names(diagnosis)
    named = _NAMED.search(message)
    return FailureFacts(
        kind=kind,
        exception_type=exc_type,
        message=message[:500],
        property_name=prop,
        missing_key=missing_key,
        hinted_expression=named.group(1) if named else hinted.group(1).strip() if hinted else None,
        exit_status=int(status.group(1)) if status else None,
        exit_message=quoted.group(1).strip() if quoted else None,
        none_names=none_names,
        bound_names=bound_names,
        removed_lines=_removed_lines(diagnosis),
    )


def _removed_lines(diagnosis: DiagnosisReady) -> tuple[str, ...]:
    """The lines the suspect commit removed, from the diff the blame evidence carries (what the code did before)."""
    return tuple(
        line[1:].strip()
        for ev in diagnosis.evidence
        if ev.kind == "git_blame" and ev.detail
        for line in ev.detail.splitlines()
        if line.startswith("-") and not line.startswith("---")
    )


def _frame_names(diagnosis: DiagnosisReady) -> tuple[frozenset[str], frozenset[str]]:
    """(locals that were None, locals that held a value) in the crashing frame, when the event sent its vars
    (values are the SDK's reprs: ``'None'``, ``"'usr_1'"``, ``{...}``; a redacted or truncated one says nothing)."""
    frame = frame_from_evidence(diagnosis)
    if frame is None:
        return frozenset(), frozenset()
    none: set[str] = set()
    bound: set[str] = set()
    for name, value in frame.vars.items():
        if not name.isidentifier():
            continue
        text = value.strip()
        if text in ("None", "null"):
            none.add(name)
        elif text and not _UNKNOWN_VALUE.search(text):
            bound.add(name)
    return frozenset(none), frozenset(bound)


_UNKNOWN_VALUE = re.compile(r"\[(?:Filtered|redacted|REDACTED)[^\]]*\]|^<unknown>$|^\[?\.\.\.\]?$")


def entity_name(expression: str) -> str:
    """A human name for a guarded expression: ``practice`` → ``Practice``, ``data["user_id"]`` → ``User id``."""
    tail = re.split(r"[.\[\]'\"()]+", expression.strip())
    words = [w for w in tail if re.match(r"^[A-Za-z_][\w$]*$", w)]
    word = words[-1] if words else "Resource"
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", word).replace("_", " ").strip() or "Resource"
    return spaced[0].upper() + spaced[1:].lower()


_FILE_IN_TEXT = re.compile(r"([\w./\[\]@()-]+\.(?:py|ts|tsx|js|jsx|mjs|cjs))(?::\d+)?")


def repo_relative(path: str) -> str:
    """``path`` without leading ``./`` segments (``lstrip("./")`` would also eat ``.github``'s dot and ``../``)."""
    while path.startswith("./"):
        path = path[2:]
    return path


def evidence_files(diagnosis: DiagnosisReady) -> frozenset[str]:
    """Repository files the diagnosis names: the affected file and files cited by code-derived evidence.

    Only :data:`~medic_contracts.CODE_EVIDENCE_KINDS` (stack frames, blame, history) count: a source
    a model named (its own "evidence") must not widen what a fix may touch without approval.
    """
    files: set[str] = set()
    if diagnosis.affected_file:
        files.add(repo_relative(diagnosis.affected_file))
    for item in diagnosis.evidence:
        if item.kind not in CODE_EVIDENCE_KINDS:
            continue
        for text in (item.source or "",):
            match = _FILE_IN_TEXT.search(text)
            if match:
                files.add(repo_relative(match.group(1)))
    return frozenset(files)


def request_from_evidence(diagnosis: DiagnosisReady) -> RequestContext | None:
    """The failing request, when the diagnosis carries it as ``request`` evidence (RequestContext JSON)."""
    for item in diagnosis.evidence:
        if item.kind != "request" or not item.detail:
            continue
        try:
            data = json.loads(item.detail)
        except ValueError:
            continue
        if isinstance(data, dict):
            known = {k: v for k, v in data.items() if k in RequestContext.model_fields}
            try:
                return RequestContext.model_validate(known)
            except ValueError:
                continue
    return None


def frame_from_evidence(diagnosis: DiagnosisReady) -> StackFrame | None:
    """The crashing frame with its local variables, when the diagnosis carries it as ``frame`` evidence
    (StackFrame JSON; the investigator adds it when the SDK sent the frame's vars)."""
    for item in diagnosis.evidence:
        if item.kind != "frame" or not item.detail:
            continue
        try:
            return StackFrame.model_validate_json(item.detail)
        except ValueError:
            continue
    return None


def crash_line(diagnosis: DiagnosisReady) -> int | None:
    """Production's crash line in the affected file: the deepest application frame the investigator cites as
    ``stack_frame`` evidence (``source`` is ``file:line``); None when it cites none there."""
    for item in diagnosis.evidence:
        file, sep, line = (item.source or "").rpartition(":")
        if item.kind == "stack_frame" and sep and line.isdigit() and file == diagnosis.affected_file:
            return int(line)
    return None
