"""Sentry-protocol events (SDK envelopes, store bodies, the REST API's event JSON) as observed events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from medic_contracts import ExceptionInfo, Link, StackFrame

from .fields import MAX_FRAMES, MAX_TRACE, SHA, as_dict, as_str, level_of, parse_timestamp
from .observed import ObservedEvent

if TYPE_CHECKING:
    from .normalize import Normaliser

__all__ = ["sentry_event"]


def sentry_event(
    normaliser: Normaliser,
    event: Mapping[str, Any],
    *,
    service: str,
    source: str = "sentry",
    now: datetime,
    links: tuple[Link, ...] = (),
) -> ObservedEvent:
    """A Sentry-protocol event (as SDKs send it, or as the REST API returns it)."""
    exc_block = event.get("exception")
    values = exc_block.get("values") if isinstance(exc_block, Mapping) else exc_block
    values = [v for v in values if isinstance(v, Mapping)] if isinstance(values, list) else []
    exception = None
    frames: tuple[StackFrame, ...] = ()
    raw_trace = None
    if values:
        main = values[-1]
        exception = ExceptionInfo(
            type=normaliser.text(main.get("type"), 300) or "Error",
            value=normaliser.text(main.get("value"), 2000),
            module=normaliser.text(main.get("module"), 300) or None,
            chained=tuple(normaliser.text(v.get("type"), 300) or "Error" for v in values[:-1]),
        )
        stack = as_dict(main.get("stacktrace")) or as_dict(main.get("raw_stacktrace"))
        raw_frames = [f for f in (stack.get("frames") or []) if isinstance(f, Mapping)][-MAX_FRAMES:]
        frames = tuple(f for f in (normaliser.stack_frame(rf) for rf in raw_frames) if f is not None)
        raw_trace = normaliser.text(_sentry_trace_text(values), MAX_TRACE) or None
    logentry = as_dict(event.get("logentry"))
    message_field = event.get("message")
    message = (
        as_str(logentry.get("formatted"))
        or as_str(logentry.get("message"))
        or (
            message_field
            if isinstance(message_field, str)
            else as_str(as_dict(message_field).get("formatted")) or as_str(as_dict(message_field).get("message"))
        )
        or ""
    )
    if exception is not None:
        headline = f"{exception.type}: {exception.value}" if exception.value else exception.type
        message = message or headline
    request = as_dict(event.get("request"))
    contexts = as_dict(event.get("contexts"))
    response = as_dict(contexts.get("response"))
    tags_raw = event.get("tags")
    tags: dict[str, str] = {}
    if isinstance(tags_raw, Mapping):
        tags = {str(k): str(v) for k, v in tags_raw.items() if as_str(v) is not None}
    elif isinstance(tags_raw, list):
        tags = {str(t[0]): str(t[1]) for t in tags_raw if isinstance(t, (list, tuple)) and len(t) == 2}
    # Tag keys are attacker-set too, and a tag named like a secret (``session``) is one whatever its value.
    tags = {
        normaliser.text(k, 100): normaliser.text(v, 200) for k, v in normaliser.redactor.mapping(list(tags.items())[:50]).items()
    }
    status = response.get("status_code") or tags.get("http.status_code") or tags.get("status_code")
    req = normaliser.request_context(
        method=request.get("method"),
        url=request.get("url"),
        route=as_str(event.get("transaction"))
        if as_str(
            event.get("transaction"),
        )
        and str(event.get("transaction")).startswith("/")
        else None,
        status=status,
        query=request.get("query_string"),
        body=request.get("data"),
        headers=request.get("headers"),
    )
    user = as_dict(event.get("user"))
    user_id = user.get("id") or user.get("email") or user.get("username") or user.get("ip_address")
    release = as_str(event.get("release"))
    commit = tags.get("commit") or tags.get("git_commit") or tags.get("commit_sha")
    if not commit and release and SHA.match(release.rsplit("@", 1)[-1]):
        commit = release.rsplit("@", 1)[-1]
    fingerprint = event.get("fingerprint")
    client_fp = (
        tuple(normaliser.text(str(p), 200) for p in fingerprint) if isinstance(fingerprint, list) and fingerprint else None
    )
    return ObservedEvent(
        source=source,
        service=service,
        timestamp=parse_timestamp(event.get("timestamp") or event.get("datetime") or event.get("dateCreated"), default=now),
        level=level_of(event.get("level"), default="error"),
        message=normaliser.text(message) or (exception.type if exception else "(no message)"),
        exception=exception,
        frames=frames,
        raw_trace=raw_trace,
        request=req,
        user_key=normaliser.user_key(user_id),
        release=normaliser.text(release, 200) or None,
        commit_sha=commit if commit and SHA.match(commit) else None,
        environment=as_str(event.get("environment")) or normaliser.environment,
        client_fingerprint=client_fp,
        platform=as_str(event.get("platform")),
        source_event_id=as_str(event.get("event_id") or event.get("eventID") or event.get("id")),
        links=links,
        tags=tags,
        logger=as_str(event.get("logger")),
    )


def _sentry_trace_text(values: list[Mapping[str, Any]]) -> str:
    """A readable trace from structured exception values (innermost frame last)."""
    parts = []
    for value in values:
        stack = as_dict(value.get("stacktrace"))
        lines = []
        for frame in stack.get("frames") or []:
            if isinstance(frame, Mapping):
                where = frame.get("filename") or frame.get("abs_path")
                lines.append(f'  File "{where}", line {frame.get("lineno")}, in {frame.get("function")}')
        parts.append("\n".join([*lines, f"{value.get('type')}: {value.get('value')}"]))
    return "\n\nThe above exception was the direct cause of the following exception:\n\n".join(parts)
