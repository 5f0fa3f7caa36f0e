"""Hosting platforms' logs as observed events: Vercel drain and runtime entries, Supabase log rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from medic_contracts import ExceptionInfo, StackFrame

from .fields import MAX_TRACE, as_dict, as_int, as_str, first_record, level_of, parse_timestamp
from .observed import Level, ObservedEvent
from .stacktext import parse_stack

if TYPE_CHECKING:
    from .normalize import Normaliser

__all__ = ["supabase_row", "vercel_entry"]


def vercel_entry(normaliser: Normaliser, entry: Mapping[str, Any], *, service: str, now: datetime) -> ObservedEvent:
    """One Vercel log drain / runtime log entry."""
    proxy = as_dict(entry.get("proxy"))
    message = as_str(entry.get("message")) or ""
    status = as_int(entry.get("statusCode"))
    if status is None:
        status = as_int(proxy.get("statusCode"))
    exc_type = exc_value = None
    frames: tuple[StackFrame, ...] = ()
    if "\n    at " in message or "Traceback (most recent call last)" in message:
        exc_type, exc_value, frames = parse_stack(message[:MAX_TRACE])
    level = level_of(entry.get("level"), default="info")
    if entry.get("type") == "fatal":
        level = "fatal"
    route = as_str(entry.get("path")) if "[" in (as_str(entry.get("path")) or "") else None
    req = normaliser.request_context(
        method=proxy.get("method"),
        url=proxy.get("path") or entry.get("path"),
        route=route,
        status=status,
    )
    user_agent = proxy.get("userAgent")
    tags = {
        k: normaliser.text(v, 200)
        for k in ("source", "deploymentId", "projectName", "executionRegion", "branch", "type")
        if (v := as_str(entry.get(k)))
    }
    if isinstance(user_agent, list) and user_agent:
        tags["user_agent"] = normaliser.text(user_agent[0], 300)
    elif isinstance(user_agent, str):
        tags["user_agent"] = normaliser.text(user_agent, 300)
    exception = (
        ExceptionInfo(type=normaliser.text(exc_type, 300) or "Error", value=normaliser.text(exc_value or "", 2000))
        if exc_type
        else None
    )
    return ObservedEvent(
        source="vercel",
        service=as_str(entry.get("projectName")) or service,
        timestamp=parse_timestamp(entry.get("timestamp"), default=now),
        level=level,
        message=normaliser.text(message.split("\n", 1)[0] if exception else message),
        exception=exception,
        frames=frames,
        raw_trace=normaliser.text(message, MAX_TRACE) if exception else None,
        request=req,
        user_key=normaliser.user_key(proxy.get("clientIp")),
        environment=as_str(entry.get("environment")) or normaliser.environment,
        source_event_id=as_str(entry.get("id")),
        tags=tags,
    )


def supabase_row(normaliser: Normaliser, row: Mapping[str, Any], *, table: str, service: str, now: datetime) -> ObservedEvent:
    """One Supabase log row (Logs Explorer / Management API), metadata as array or object."""
    meta = first_record(row.get("metadata"))
    parsed = first_record(meta.get("parsed"))
    request = first_record(meta.get("request"))
    response = first_record(meta.get("response"))
    message = as_str(row.get("event_message")) or ""
    level: Level = level_of(meta.get("level") or row.get("severity_text"), default="info")
    severity = as_str(parsed.get("error_severity"))
    if severity:
        level = level_of(severity, default="error")
    status = as_int(response.get("status_code")) if response else as_int(meta.get("status"))
    exception = None
    frames: tuple[StackFrame, ...] = ()
    if table == "postgres_logs" and level in ("error", "fatal"):
        code = as_str(parsed.get("sql_state_code"))
        exception = ExceptionInfo(type=f"PostgresError{f'[{code}]' if code else ''}", value=normaliser.text(message, 2000))
    elif "\n    at " in message:
        exc_type, exc_value, frames = parse_stack(message.removeprefix("Uncaught ")[:MAX_TRACE])
        if exc_type:
            exception = ExceptionInfo(type=normaliser.text(exc_type, 300), value=normaliser.text(exc_value or "", 2000))
    req = normaliser.request_context(
        method=request.get("method") or meta.get("method"),
        url=request.get("path") or meta.get("path"),
        status=status,
        duration=response.get("origin_time"),
    )
    if status is not None and status >= 500 and level == "info":
        level = "error"
    tags = {"table": table}
    if query := as_str(parsed.get("query")):
        tags["query"] = normaliser.text(query, 1000)
    return ObservedEvent(
        source="supabase",
        service=service,
        timestamp=parse_timestamp(row.get("timestamp"), default=now),
        level=level,
        message=normaliser.text(message.split("\n", 1)[0] if exception and frames else message),
        exception=exception,
        frames=frames,
        raw_trace=normaliser.text(message, MAX_TRACE) if frames else None,
        request=req,
        environment=normaliser.environment,
        source_event_id=as_str(row.get("id")),
        tags=tags,
        logger=table,
    )
