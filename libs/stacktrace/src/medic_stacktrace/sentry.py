"""Read the exception part of a Sentry-protocol event into a :class:`ParsedTrace`.

Follows the protocol: ``exception`` is ``{"values": [...]}`` (or a bare list in old SDKs), oldest
first; each value has ``type``, ``value``, ``module``, ``stacktrace.frames`` (innermost last) and
``mechanism`` (``exception_id``/``parent_id``/``is_exception_group``/``source`` for chains and
groups). Without mechanism ids, consecutive values form a cause chain, as Sentry reads them. An
exception without frames borrows the crashed thread's stack (``threads.values[]``), and an event
without exceptions but with a top-level ``stacktrace`` becomes one ``Error`` with those frames.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from medic_contracts import StackFrame

from .chain import main_exception_index
from .inapp import DEFAULT_IN_APP_RULES, InAppRules
from .model import ChainRelation, ParsedException, ParsedTrace, TraceLanguage

__all__ = ["frame_from_sentry", "parse_sentry_event"]

_MAX_VAR = 512
_MAX_VARS = 64
_MAX_CONTEXT = 5
_PYTHON_PLATFORMS = {"python"}
_JS_PLATFORMS = {"javascript", "node", "typescript"}


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _var_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= _MAX_VAR else text[: _MAX_VAR - 1] + "…"


def _context(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    lines = [v if isinstance(v, str) else "" for v in value]
    return tuple(lines[-_MAX_CONTEXT:])


def frame_from_sentry(raw: Mapping[str, Any], *, rules: InAppRules = DEFAULT_IN_APP_RULES) -> StackFrame:
    """One Sentry ``frame`` object as a :class:`StackFrame` (``abs_path`` preferred to ``filename``).

    ``in_app`` is the SDK's when it set one, except that library code is never in-app; otherwise
    ``rules`` decide. ``vars`` are kept as short strings: redaction is the caller's job.
    """
    abs_path = _text(raw.get("abs_path"))
    filename = _text(raw.get("filename"))
    file = abs_path or filename or _text(raw.get("module")) or "<unknown>"
    variables: dict[str, str] = {}
    raw_vars = raw.get("vars")
    if isinstance(raw_vars, Mapping):
        for key, value in list(raw_vars.items())[:_MAX_VARS]:
            variables[str(key)] = _var_text(value)
    context_line = raw.get("context_line")
    frame = StackFrame(
        file=file,
        function=_text(raw.get("function")) or None,
        line=_int_or_none(raw.get("lineno")),
        column=_int_or_none(raw.get("colno")),
        module=_text(raw.get("module")) or None,
        context_line=context_line if isinstance(context_line, str) else None,
        pre_context=_context(raw.get("pre_context")),
        post_context=_context(raw.get("post_context")),
        vars=variables,
    )
    sdk_in_app = raw.get("in_app")
    # a library frame under a path the SDK did not understand: check the relative filename too
    if sdk_in_app is not False and filename and abs_path and rules.is_library(filename):
        return frame.model_copy(update={"in_app": False})
    return rules.classify(frame, sdk_in_app if isinstance(sdk_in_app, bool) else None)


def _frames(stacktrace: Any, rules: InAppRules) -> tuple[StackFrame, ...]:
    if not isinstance(stacktrace, Mapping):
        return ()
    raw_frames = stacktrace.get("frames")
    if not isinstance(raw_frames, list):
        return ()
    return tuple(frame_from_sentry(f, rules=rules) for f in raw_frames if isinstance(f, Mapping))


def _thread_frames(event: Mapping[str, Any], thread_id: Any, rules: InAppRules) -> tuple[StackFrame, ...]:
    threads = event.get("threads")
    values = threads.get("values") if isinstance(threads, Mapping) else threads
    if not isinstance(values, list):
        return ()
    candidates = [t for t in values if isinstance(t, Mapping)]
    chosen = [t for t in candidates if thread_id is not None and t.get("id") == thread_id]
    chosen = chosen or [t for t in candidates if t.get("crashed")] or [t for t in candidates if t.get("current")]
    return _frames(chosen[0].get("stacktrace"), rules) if chosen else ()


def _values(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, Mapping) else exception
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, Mapping)]


def _language(platform: str | None) -> TraceLanguage:
    if platform in _PYTHON_PLATFORMS:
        return TraceLanguage.PYTHON
    if platform in _JS_PLATFORMS:
        return TraceLanguage.JAVASCRIPT
    return TraceLanguage.OTHER if platform else TraceLanguage.UNKNOWN


def _relation(mechanism: Mapping[str, Any], parent: Mapping[str, Any] | None) -> ChainRelation:
    source = str(mechanism.get("source") or "")
    if source.startswith(("exceptions[", "errors[")) or (parent is not None and parent.get("is_exception_group")):
        return ChainRelation.GROUP_MEMBER
    if source == "__context__":
        return ChainRelation.CONTEXT
    return ChainRelation.CAUSE


def parse_sentry_event(event: Mapping[str, Any], *, rules: InAppRules = DEFAULT_IN_APP_RULES) -> ParsedTrace:
    """The exception chain of a Sentry event (``exception.values``), with Sentry's main exception.

    Events without an exception (log messages) give an empty trace unless they carry a top-level
    ``stacktrace``. Malformed parts (a frame that is not an object, a non-numeric line) are skipped,
    never fatal: event payloads come from the outside.
    """
    platform = _text(event.get("platform"))
    language = _language(platform)
    values = _values(event)
    if not values:
        frames = _frames(event.get("stacktrace"), rules)
        if not frames:
            return ParsedTrace(language=language, platform=platform)
        message = event.get("logentry") or event.get("message")
        text = message.get("formatted") or message.get("message") if isinstance(message, Mapping) else message
        only = ParsedException(type="Error", value=_text(text) or "", frames=frames)
        return ParsedTrace(language=language, exceptions=(only,), main_index=0, platform=platform)

    mechanisms: list[Mapping[str, Any]] = []
    for value in values:
        mechanism = value.get("mechanism")
        mechanisms.append(mechanism if isinstance(mechanism, Mapping) else {})
    have_ids = all(isinstance(m.get("exception_id"), int) for m in mechanisms)
    by_id: dict[int, Mapping[str, Any]] = {}
    if have_ids:
        by_id = {int(m["exception_id"]): m for m in mechanisms}
    exceptions: list[ParsedException] = []
    count = len(values)
    for index, (value, mechanism) in enumerate(zip(values, mechanisms, strict=True)):
        frames = _frames(value.get("stacktrace"), rules)
        if not frames and count == 1:
            frames = _thread_frames(event, value.get("thread_id"), rules)
        exception_id: int
        parent_id: int | None
        relation: ChainRelation | None
        if have_ids:
            exception_id = int(mechanism["exception_id"])
            raw_parent = mechanism.get("parent_id")
            parent_id = raw_parent if isinstance(raw_parent, int) and raw_parent != exception_id else None
            relation = _relation(mechanism, by_id.get(parent_id) if parent_id is not None else None)
            if parent_id is None:
                relation = None
        else:
            # values run oldest first: the last is the raised exception (id 0), each earlier one caused the next
            exception_id = count - 1 - index
            parent_id = exception_id - 1 if exception_id > 0 else None
            relation = ChainRelation.CAUSE if parent_id is not None else None
        type_name = _text(value.get("type")) or "Error"
        exceptions.append(
            ParsedException(
                type=type_name,
                value=_text(value.get("value")) or "",
                module=_text(value.get("module")) or None,
                frames=frames,
                exception_id=exception_id,
                parent_id=parent_id,
                relation=relation,
                is_group=bool(mechanism.get("is_exception_group")),
            )
        )
    return ParsedTrace(
        language=language,
        exceptions=tuple(exceptions),
        main_index=_main_index(exceptions, event),
        platform=platform,
    )


def _main_index(exceptions: Sequence[ParsedException], event: Mapping[str, Any]) -> int | None:
    """Sentry's choice: ``main_exception_id`` when the event has one, else the grouping rule."""
    main_id = event.get("main_exception_id")
    if isinstance(main_id, int):
        for i, e in enumerate(exceptions):
            if e.exception_id == main_id:
                return i
    return main_exception_index(exceptions)
