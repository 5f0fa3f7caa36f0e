"""Application log lines (JSON objects in the usual logger formats, or plain text) as observed events."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from medic_contracts import ExceptionInfo, RequestContext, StackFrame

from .fields import MAX_TRACE, SHA, as_dict, as_float, as_int, as_str, level_of, parse_timestamp, route_template
from .observed import Level, ObservedEvent
from .stacktext import parse_stack

if TYPE_CHECKING:
    from .normalize import Normaliser

__all__ = ["log_line", "log_record"]


def log_record(
    normaliser: Normaliser, record: Mapping[str, Any], *, service: str, source: str = "logfile", now: datetime
) -> ObservedEvent:
    """One JSON log object (house format, pino, python-json-logger, structlog aliases)."""
    err = record.get("error") if isinstance(record.get("error"), Mapping) else record.get("err")
    err = as_dict(err)
    level = level_of(record.get("level", record.get("levelname", record.get("severity"))), default="info")
    status = as_int(record.get("status") or record.get("statusCode") or record.get("status_code"))
    has_error = bool(err) or any(record.get(k) for k in ("exc_info", "stack", "exception", "error"))
    if not has_error and level not in ("error", "fatal") and not (status is not None and (status >= 500 or status == -1)):
        # A healthy line only feeds traffic baselines: keep its request shape, never its text (not stored).
        return _quiet_line(normaliser, record, level=level, status=status, service=service, source=source, now=now)
    message = as_str(record.get("msg")) or as_str(record.get("message")) or as_str(record.get("event")) or ""
    stack = (
        as_str(err.get("stack"))
        or as_str(record.get("exc_info"))
        or as_str(record.get("stack"))
        or as_str(record.get("exception"))
    )
    exc_type = as_str(err.get("type")) or as_str(err.get("name"))
    exc_value = as_str(err.get("message"))
    frames: tuple[StackFrame, ...] = ()
    if stack:
        parsed_type, parsed_value, frames = parse_stack(stack[:MAX_TRACE], error_type=exc_type, error_value=exc_value)
        exc_type = exc_type or parsed_type
        exc_value = exc_value if exc_value is not None else parsed_value
    if isinstance(record.get("error"), str) and not exc_value:
        exc_value = record["error"]
    exception = (
        ExceptionInfo(type=normaliser.text(exc_type, 300) or "Error", value=normaliser.text(exc_value or "", 2000))
        if exc_type or stack
        else None
    )
    route = as_str(record.get("route"))
    req = normaliser.request_context(
        method=record.get("method"),
        url=record.get("url") or record.get("path"),
        route=route,
        status=record.get("status") or record.get("statusCode") or record.get("status_code"),
        duration=record.get("duration_ms") or record.get("responseTime"),
    )
    user_id = record.get("user_id") or record.get("userId") or as_dict(record.get("user")).get("id")
    commit = as_str(record.get("commit"))
    return ObservedEvent(
        source=source,
        service=as_str(record.get("service")) or service,
        timestamp=parse_timestamp(record.get("ts", record.get("time", record.get("timestamp"))), default=now),
        level=level,
        message=normaliser.text(message) or (f"{exception.type}: {exception.value}" if exception else ""),
        exception=exception,
        frames=frames,
        raw_trace=normaliser.text(stack, MAX_TRACE) or None,
        request=req,
        user_key=normaliser.user_key(user_id),
        release=normaliser.text(record.get("release"), 200) or None,
        commit_sha=commit if commit and SHA.match(commit) else None,
        environment=as_str(record.get("environment")) or normaliser.environment,
        source_event_id=as_str(record.get("request_id")),
        logger=as_str(record.get("logger")) or as_str(record.get("name")),
    )


def _quiet_line(
    normaliser: Normaliser,
    record: Mapping[str, Any],
    *,
    level: Level,
    status: int | None,
    service: str,
    source: str,
    now: datetime,
) -> ObservedEvent:
    route = as_str(record.get("route")) or route_template(as_str(record.get("path")) or as_str(record.get("url")))
    method = as_str(record.get("method"))
    request = (
        RequestContext(
            method=method.upper()[:10] if method else None,
            route=normaliser.route(route) if route else None,
            status=status if status is not None and -1 <= status <= 999 else None,
            duration_ms=as_float(record.get("duration_ms") or record.get("responseTime")),
        )
        if route or status is not None
        else None
    )
    return ObservedEvent(
        source=source,
        service=as_str(record.get("service")) or service,
        timestamp=parse_timestamp(record.get("ts", record.get("time", record.get("timestamp"))), default=now),
        level=level,
        message="",
        request=request,
        environment=as_str(record.get("environment")) or normaliser.environment,
    )


def log_line(normaliser: Normaliser, line: str, *, service: str, source: str = "logfile", now: datetime) -> ObservedEvent:
    """A raw log line: JSON when it parses as an object, else plain text (level guessed from words)."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped[: 4 * 1024 * 1024])
        except ValueError:
            record = None
        if isinstance(record, Mapping):
            return log_record(normaliser, record, service=service, source=source, now=now)
    lowered = stripped[:200].lower()
    level: Level = "info"
    for word, name in (
        ("fatal", "fatal"),
        ("critical", "fatal"),
        ("error", "error"),
        ("exception", "error"),
        ("warn", "warning"),
    ):
        if word in lowered:
            level = name  # type: ignore[assignment]
            break
    return ObservedEvent(source=source, service=service, timestamp=now, level=level, message=normaliser.text(stripped))
