"""Normalisation: every source's payload into one redacted :class:`ObservedEvent`.

Input here is attacker-influenced (error text, URLs, headers, log lines): each string goes
through the :class:`Redactor` and is truncated before it is kept, and nothing raises on odd
shapes: a field that is missing or of the wrong type is simply absent from the result.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from medic_contracts import ExceptionInfo, Link, RequestContext, StackFrame
from medic_runtime import Redactor

from .observed import Level, ObservedEvent, RouteSample
from .paths import guess_in_app
from .stacktext import parse_stack

__all__ = [
    "Normaliser",
    "parse_timestamp",
    "route_template",
]

MAX_MESSAGE = 8_000
MAX_TRACE = 50_000
MAX_CONTEXT_LINE = 500
MAX_VARS = 30
MAX_FRAMES = 100
_KEPT_HEADERS = ("user-agent", "referer", "content-type", "accept", "x-request-id", "x-vercel-id")
_LEVEL_ALIASES: dict[str, Level] = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "information": "info",
    "notice": "info",
    "log": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "err": "error",
    "critical": "fatal",
    "fatal": "fatal",
    "panic": "fatal",
    "emergency": "fatal",
    "alert": "fatal",
}
_PINO_LEVELS: tuple[tuple[int, Level], ...] = ((60, "fatal"), (50, "error"), (40, "warning"), (30, "info"), (0, "debug"))
_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}|"
    r"[A-Za-z0-9_-]*\d[A-Za-z0-9_-]{7,})$"
)
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_SMALL_INT = re.compile(r"-?\d{1,9}")


def parse_timestamp(value: Any, *, default: datetime) -> datetime:
    """ISO 8601, epoch seconds, milliseconds or microseconds (by magnitude) to an aware UTC datetime."""
    try:
        if isinstance(value, bool) or value is None:
            return default
        if isinstance(value, (int, float)):
            number = float(value)
            if number > 1e17:  # nanoseconds
                number /= 1e9
            elif number > 1e14:  # microseconds (Supabase)
                number /= 1e6
            elif number > 1e11:  # milliseconds (Vercel, pino)
                number /= 1e3
            return datetime.fromtimestamp(number, tz=UTC)
        if isinstance(value, str):
            text = value.strip()
            if _NUMBER.fullmatch(text):
                return parse_timestamp(float(text), default=default)
            text = text.replace("Z", "+00:00").replace(" UTC", "+00:00")
            parsed = datetime.fromisoformat(text)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return default
    return default


def route_template(path: str | None) -> str | None:
    """A URL or path as a route template: no host or query, id-like segments as ``:id``."""
    if not path:
        return None
    if "://" in path:
        path = urlsplit(path).path or "/"
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = [":id" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/")]
    return "/".join(segments)[:300] or "/"


def _level(value: Any, *, default: Level = "info") -> Level:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for threshold, name in _PINO_LEVELS:
            if value >= threshold:
                return name
        return "debug"
    if isinstance(value, str):
        return _LEVEL_ALIASES.get(value.strip().lower(), default)
    return default


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and _SMALL_INT.fullmatch(value.strip()):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if parsed >= 0 else None
    return None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first_record(value: Any) -> Mapping[str, Any]:
    """Supabase metadata columns are arrays of records (or, in drains, plain objects)."""
    if isinstance(value, list):
        return _dict(value[0]) if value else {}
    return _dict(value)


@dataclass(slots=True)
class Normaliser:
    """Builds redacted :class:`ObservedEvent`s; one per target (its secrets may be configured)."""

    redactor: Redactor = field(default_factory=Redactor)
    environment: str = "production"
    _routes: dict[str, str] = field(default_factory=dict)

    def route(self, value: str) -> str:
        """A redacted route template; routes repeat, so their redaction is remembered (bounded)."""
        cached = self._routes.get(value)
        if cached is None:
            cached = self.text(route_template(value), 300)
            if len(self._routes) < 10_000:
                self._routes[value] = cached
        return cached

    # ---- helpers ---------------------------------------------------------------------------

    def text(self, value: Any, limit: int = MAX_MESSAGE) -> str:
        """Redacted, truncated text ('' for non-strings)."""
        raw = _str(value)
        if not raw:
            return ""
        # Cut before redacting too: a 10 MB line must not cost 10 MB of regex work.
        return self.redactor.text(raw[: limit * 2], max_length=limit)

    def user_key(self, value: Any) -> str | None:
        """A stable hash of a user identity: distinct users can be counted, the identity is not kept."""
        raw = _str(value)
        if not raw:
            return None
        return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:16]

    def _request(
        self,
        *,
        method: Any,
        url: Any,
        route: Any = None,
        status: Any = None,
        duration: Any = None,
        query: Any = None,
        body: Any = None,
        headers: Any = None,
    ) -> RequestContext | None:
        url_text = _str(url)
        route_text = _str(route) or (route_template(url_text) if url_text else None)
        method_text = _str(method)
        status_int = _int(status)
        if not (url_text or route_text or method_text or status_int is not None):
            return None
        kept: dict[str, str] = {}
        if isinstance(headers, Mapping):
            items = headers.items()
        elif isinstance(headers, list):
            items = [(h[0], h[1]) for h in headers if isinstance(h, (list, tuple)) and len(h) == 2]  # type: ignore[assignment]
        else:
            items = []  # type: ignore[assignment]
        for key, value in items:
            if str(key).lower() in _KEPT_HEADERS and _str(value):
                kept[str(key).lower()] = self.text(value, 300)
        if status_int is not None and not -1 <= status_int <= 999:
            status_int = None
        # Structured query pairs and bodies are redacted by key before they become text (Sentry sends
        # ``query_string`` as ``[["token", "v"], ...]``), then as text like everything else.
        query_text = (
            query
            if isinstance(query, str)
            else (json.dumps(self.redactor.value(query), default=str)[:2000] if isinstance(query, (list, dict)) else None)
        )
        body_text = (
            body
            if isinstance(body, str)
            else (json.dumps(self.redactor.value(body), default=str)[:4000] if isinstance(body, (list, dict)) else None)
        )
        return RequestContext(
            method=method_text.upper()[:10] if method_text else None,
            route=self.text(route_template(route_text) if route_text else None, 300) or None,
            url=self.text(url_text, 2000) or None,
            status=status_int,
            duration_ms=_float(duration),
            query=self.text(query_text, 2000) or None,
            body=self.text(body_text, 2000) or None,
            headers=kept,
        )

    def _frame(self, raw: Mapping[str, Any]) -> StackFrame | None:
        file = _str(raw.get("filename")) or _str(raw.get("abs_path")) or _str(raw.get("module"))
        if not file:
            return None
        in_app = raw.get("in_app")
        variables = _dict(raw.get("vars"))
        return StackFrame(
            file=self.text(file, 500),
            function=self.text(raw.get("function"), 300) or None,
            line=lineno if (lineno := _int(raw.get("lineno"))) is not None and lineno >= 0 else None,
            column=colno if (colno := _int(raw.get("colno"))) is not None and colno >= 0 else None,
            module=self.text(raw.get("module"), 300) or None,
            # An SDK that marks installed packages in-app is misconfigured; the path is the better witness.
            in_app=(in_app if isinstance(in_app, bool) else True) and guess_in_app(_str(raw.get("abs_path")) or file),
            context_line=self.text(raw.get("context_line"), MAX_CONTEXT_LINE) or None,
            pre_context=tuple(self.text(x, MAX_CONTEXT_LINE) for x in (raw.get("pre_context") or [])[-5:] if isinstance(x, str)),
            post_context=tuple(self.text(x, MAX_CONTEXT_LINE) for x in (raw.get("post_context") or [])[:5] if isinstance(x, str)),
            vars={
                k: self.text(v if isinstance(v, str) else json.dumps(v, default=str), 300)
                for k, v in self.redactor.mapping(list(variables.items())[:MAX_VARS]).items()
            },
        )

    # ---- Sentry --------------------------------------------------------------------------------

    def sentry_event(
        self, event: Mapping[str, Any], *, service: str, source: str = "sentry", now: datetime, links: tuple[Link, ...] = ()
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
                type=self.text(main.get("type"), 300) or "Error",
                value=self.text(main.get("value"), 2000),
                module=self.text(main.get("module"), 300) or None,
                chained=tuple(self.text(v.get("type"), 300) or "Error" for v in values[:-1]),
            )
            stack = _dict(main.get("stacktrace")) or _dict(main.get("raw_stacktrace"))
            raw_frames = [f for f in (stack.get("frames") or []) if isinstance(f, Mapping)][-MAX_FRAMES:]
            frames = tuple(f for f in (self._frame(rf) for rf in raw_frames) if f is not None)
            raw_trace = self.text(_sentry_trace_text(values), MAX_TRACE) or None
        logentry = _dict(event.get("logentry"))
        message_field = event.get("message")
        message = (
            _str(logentry.get("formatted"))
            or _str(logentry.get("message"))
            or (
                message_field
                if isinstance(message_field, str)
                else _str(_dict(message_field).get("formatted")) or _str(_dict(message_field).get("message"))
            )
            or ""
        )
        if exception is not None:
            headline = f"{exception.type}: {exception.value}" if exception.value else exception.type
            message = message or headline
        request = _dict(event.get("request"))
        contexts = _dict(event.get("contexts"))
        response = _dict(contexts.get("response"))
        tags_raw = event.get("tags")
        tags: dict[str, str] = {}
        if isinstance(tags_raw, Mapping):
            tags = {str(k): str(v) for k, v in tags_raw.items() if _str(v) is not None}
        elif isinstance(tags_raw, list):
            tags = {str(t[0]): str(t[1]) for t in tags_raw if isinstance(t, (list, tuple)) and len(t) == 2}
        # Tag keys are attacker-set too, and a tag named like a secret (``session``) is one whatever its value.
        tags = {self.text(k, 100): self.text(v, 200) for k, v in self.redactor.mapping(list(tags.items())[:50]).items()}
        status = response.get("status_code") or tags.get("http.status_code") or tags.get("status_code")
        req = self._request(
            method=request.get("method"),
            url=request.get("url"),
            route=_str(event.get("transaction"))
            if _str(
                event.get("transaction"),
            )
            and str(event.get("transaction")).startswith("/")
            else None,
            status=status,
            query=request.get("query_string"),
            body=request.get("data"),
            headers=request.get("headers"),
        )
        user = _dict(event.get("user"))
        user_id = user.get("id") or user.get("email") or user.get("username") or user.get("ip_address")
        release = _str(event.get("release"))
        commit = tags.get("commit") or tags.get("git_commit") or tags.get("commit_sha")
        if not commit and release and _SHA.match(release.rsplit("@", 1)[-1]):
            commit = release.rsplit("@", 1)[-1]
        fingerprint = event.get("fingerprint")
        client_fp = tuple(self.text(str(p), 200) for p in fingerprint) if isinstance(fingerprint, list) and fingerprint else None
        return ObservedEvent(
            source=source,
            service=service,
            timestamp=parse_timestamp(event.get("timestamp") or event.get("datetime") or event.get("dateCreated"), default=now),
            level=_level(event.get("level"), default="error"),
            message=self.text(message) or (exception.type if exception else "(no message)"),
            exception=exception,
            frames=frames,
            raw_trace=raw_trace,
            request=req,
            user_key=self.user_key(user_id),
            release=self.text(release, 200) or None,
            commit_sha=commit if commit and _SHA.match(commit) else None,
            environment=_str(event.get("environment")) or self.environment,
            client_fingerprint=client_fp,
            platform=_str(event.get("platform")),
            source_event_id=_str(event.get("event_id") or event.get("eventID") or event.get("id")),
            links=links,
            tags=tags,
            logger=_str(event.get("logger")),
        )

    # ---- JSON-lines application logs -------------------------------------------------------

    def log_record(self, record: Mapping[str, Any], *, service: str, source: str = "logfile", now: datetime) -> ObservedEvent:
        """One JSON log object (house format, pino, python-json-logger, structlog aliases)."""
        err = record.get("error") if isinstance(record.get("error"), Mapping) else record.get("err")
        err = _dict(err)
        level = _level(record.get("level", record.get("levelname", record.get("severity"))), default="info")
        status = _int(record.get("status") or record.get("statusCode") or record.get("status_code"))
        has_error = bool(err) or any(record.get(k) for k in ("exc_info", "stack", "exception", "error"))
        if not has_error and level not in ("error", "fatal") and not (status is not None and (status >= 500 or status == -1)):
            # A healthy line only feeds traffic baselines: keep its request shape, never its text (not stored).
            return self._quiet_line(record, level=level, status=status, service=service, source=source, now=now)
        message = _str(record.get("msg")) or _str(record.get("message")) or _str(record.get("event")) or ""
        stack = (
            _str(err.get("stack")) or _str(record.get("exc_info")) or _str(record.get("stack")) or _str(record.get("exception"))
        )
        exc_type = _str(err.get("type")) or _str(err.get("name"))
        exc_value = _str(err.get("message"))
        frames: tuple[StackFrame, ...] = ()
        if stack:
            parsed_type, parsed_value, frames = parse_stack(stack[:MAX_TRACE], error_type=exc_type, error_value=exc_value)
            exc_type = exc_type or parsed_type
            exc_value = exc_value if exc_value is not None else parsed_value
        if isinstance(record.get("error"), str) and not exc_value:
            exc_value = record["error"]
        exception = (
            ExceptionInfo(type=self.text(exc_type, 300) or "Error", value=self.text(exc_value or "", 2000))
            if exc_type or stack
            else None
        )
        route = _str(record.get("route"))
        req = self._request(
            method=record.get("method"),
            url=record.get("url") or record.get("path"),
            route=route,
            status=record.get("status") or record.get("statusCode") or record.get("status_code"),
            duration=record.get("duration_ms") or record.get("responseTime"),
        )
        user_id = record.get("user_id") or record.get("userId") or _dict(record.get("user")).get("id")
        commit = _str(record.get("commit"))
        return ObservedEvent(
            source=source,
            service=_str(record.get("service")) or service,
            timestamp=parse_timestamp(record.get("ts", record.get("time", record.get("timestamp"))), default=now),
            level=level,
            message=self.text(message) or (f"{exception.type}: {exception.value}" if exception else ""),
            exception=exception,
            frames=frames,
            raw_trace=self.text(stack, MAX_TRACE) or None,
            request=req,
            user_key=self.user_key(user_id),
            release=self.text(record.get("release"), 200) or None,
            commit_sha=commit if commit and _SHA.match(commit) else None,
            environment=_str(record.get("environment")) or self.environment,
            source_event_id=_str(record.get("request_id")),
            logger=_str(record.get("logger")) or _str(record.get("name")),
        )

    def _quiet_line(
        self, record: Mapping[str, Any], *, level: Level, status: int | None, service: str, source: str, now: datetime
    ) -> ObservedEvent:
        route = _str(record.get("route")) or route_template(_str(record.get("path")) or _str(record.get("url")))
        method = _str(record.get("method"))
        request = (
            RequestContext(
                method=method.upper()[:10] if method else None,
                route=self.route(route) if route else None,
                status=status if status is not None and -1 <= status <= 999 else None,
                duration_ms=_float(record.get("duration_ms") or record.get("responseTime")),
            )
            if route or status is not None
            else None
        )
        return ObservedEvent(
            source=source,
            service=_str(record.get("service")) or service,
            timestamp=parse_timestamp(record.get("ts", record.get("time", record.get("timestamp"))), default=now),
            level=level,
            message="",
            request=request,
            environment=_str(record.get("environment")) or self.environment,
        )

    def log_line(self, line: str, *, service: str, source: str = "logfile", now: datetime) -> ObservedEvent:
        """A raw log line: JSON when it parses as an object, else plain text (level guessed from words)."""
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                record = json.loads(stripped[: 4 * 1024 * 1024])
            except ValueError:
                record = None
            if isinstance(record, Mapping):
                return self.log_record(record, service=service, source=source, now=now)
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
        return ObservedEvent(source=source, service=service, timestamp=now, level=level, message=self.text(stripped))

    # ---- Vercel ------------------------------------------------------------------------------

    def vercel_entry(self, entry: Mapping[str, Any], *, service: str, now: datetime) -> ObservedEvent:
        """One Vercel log drain / runtime log entry."""
        proxy = _dict(entry.get("proxy"))
        message = _str(entry.get("message")) or ""
        status = _int(entry.get("statusCode"))
        if status is None:
            status = _int(proxy.get("statusCode"))
        exc_type = exc_value = None
        frames: tuple[StackFrame, ...] = ()
        if "\n    at " in message or "Traceback (most recent call last)" in message:
            exc_type, exc_value, frames = parse_stack(message[:MAX_TRACE])
        level = _level(entry.get("level"), default="info")
        if entry.get("type") == "fatal":
            level = "fatal"
        route = _str(entry.get("path")) if "[" in (_str(entry.get("path")) or "") else None
        req = self._request(
            method=proxy.get("method"),
            url=proxy.get("path") or entry.get("path"),
            route=route,
            status=status,
        )
        user_agent = proxy.get("userAgent")
        tags = {
            k: self.text(v, 200)
            for k in ("source", "deploymentId", "projectName", "executionRegion", "branch", "type")
            if (v := _str(entry.get(k)))
        }
        if isinstance(user_agent, list) and user_agent:
            tags["user_agent"] = self.text(user_agent[0], 300)
        elif isinstance(user_agent, str):
            tags["user_agent"] = self.text(user_agent, 300)
        exception = (
            ExceptionInfo(type=self.text(exc_type, 300) or "Error", value=self.text(exc_value or "", 2000)) if exc_type else None
        )
        return ObservedEvent(
            source="vercel",
            service=_str(entry.get("projectName")) or service,
            timestamp=parse_timestamp(entry.get("timestamp"), default=now),
            level=level,
            message=self.text(message.split("\n", 1)[0] if exception else message),
            exception=exception,
            frames=frames,
            raw_trace=self.text(message, MAX_TRACE) if exception else None,
            request=req,
            user_key=self.user_key(proxy.get("clientIp")),
            environment=_str(entry.get("environment")) or self.environment,
            source_event_id=_str(entry.get("id")),
            tags=tags,
        )

    # ---- Supabase ----------------------------------------------------------------------------

    def supabase_row(self, row: Mapping[str, Any], *, table: str, service: str, now: datetime) -> ObservedEvent:
        """One Supabase log row (Logs Explorer / Management API), metadata as array or object."""
        meta = _first_record(row.get("metadata"))
        parsed = _first_record(meta.get("parsed"))
        request = _first_record(meta.get("request"))
        response = _first_record(meta.get("response"))
        message = _str(row.get("event_message")) or ""
        level: Level = _level(meta.get("level") or row.get("severity_text"), default="info")
        severity = _str(parsed.get("error_severity"))
        if severity:
            level = _level(severity, default="error")
        status = _int(response.get("status_code")) if response else _int(meta.get("status"))
        exception = None
        frames: tuple[StackFrame, ...] = ()
        if table == "postgres_logs" and level in ("error", "fatal"):
            code = _str(parsed.get("sql_state_code"))
            exception = ExceptionInfo(type=f"PostgresError{f'[{code}]' if code else ''}", value=self.text(message, 2000))
        elif "\n    at " in message:
            exc_type, exc_value, frames = parse_stack(message.removeprefix("Uncaught ")[:MAX_TRACE])
            if exc_type:
                exception = ExceptionInfo(type=self.text(exc_type, 300), value=self.text(exc_value or "", 2000))
        req = self._request(
            method=request.get("method") or meta.get("method"),
            url=request.get("path") or meta.get("path"),
            status=status,
            duration=response.get("origin_time"),
        )
        if status is not None and status >= 500 and level == "info":
            level = "error"
        tags = {"table": table}
        if query := _str(parsed.get("query")):
            tags["query"] = self.text(query, 1000)
        return ObservedEvent(
            source="supabase",
            service=service,
            timestamp=parse_timestamp(row.get("timestamp"), default=now),
            level=level,
            message=self.text(message.split("\n", 1)[0] if exception and frames else message),
            exception=exception,
            frames=frames,
            raw_trace=self.text(message, MAX_TRACE) if frames else None,
            request=req,
            environment=self.environment,
            source_event_id=_str(row.get("id")),
            tags=tags,
            logger=table,
        )


def route_sample(event: ObservedEvent) -> RouteSample | None:
    """The request an event describes, for traffic/error-rate/latency baselines (None when it is not one)."""
    req = event.request
    if req is None or req.status is None or not req.route:
        return None
    return RouteSample(
        service=event.service, route=req.route, timestamp=event.timestamp, status=req.status, duration_ms=req.duration_ms
    )


def _sentry_trace_text(values: list[Mapping[str, Any]]) -> str:
    """A readable trace from structured exception values (innermost frame last)."""
    parts = []
    for value in values:
        stack = _dict(value.get("stacktrace"))
        lines = []
        for frame in stack.get("frames") or []:
            if isinstance(frame, Mapping):
                where = frame.get("filename") or frame.get("abs_path")
                lines.append(f'  File "{where}", line {frame.get("lineno")}, in {frame.get("function")}')
        parts.append("\n".join([*lines, f"{value.get('type')}: {value.get('value')}"]))
    return "\n\nThe above exception was the direct cause of the following exception:\n\n".join(parts)
