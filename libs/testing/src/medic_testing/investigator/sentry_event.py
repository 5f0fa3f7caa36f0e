"""A raw Sentry-protocol event as an IssueDetected, for the investigator's unit tests only.

It keeps the SDK's frame paths as sent (``/code/errors/views.py``), which those tests rebuild
repositories from. Product code and the benchmarks use the watcher's one builder,
``medic_watcher.job.detect.detect_from_sentry_events``; moving these tests onto it is left to do.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from medic_contracts import (
    ExceptionInfo,
    Frequency,
    IssueDetected,
    IssueType,
    Producer,
    RequestContext,
    Severity,
    StackFrame,
)
from medic_runtime import Redactor
from medic_stacktrace import parse_sentry_event

__all__ = ["frames_from_sentry", "issue_from_sentry_event"]

_SOURCE = Producer(service="investigator", instance="sentry-event")


def _values(event: dict[str, Any]) -> list[dict[str, Any]]:
    exc = event.get("exception") or event.get("sentry.interfaces.Exception") or {}
    values = exc.get("values", []) if isinstance(exc, dict) else exc
    return [v for v in values if isinstance(v, dict)]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def frames_from_sentry(value: dict[str, Any], *, redactor: Redactor | None = None) -> tuple[StackFrame, ...]:
    """The frames of one exception value, innermost last, variables redacted."""
    redactor = redactor or Redactor()
    stack = value.get("stacktrace") or {}
    frames = []
    for raw in stack.get("frames") or []:
        if not isinstance(raw, dict):
            continue
        abs_path = _text(raw.get("abs_path")) or ""
        filename = _text(raw.get("filename")) or ""
        # abs_path says where the code ran (site-packages, /code/...); filename is the SDK's short form.
        path = abs_path if abs_path and "<" not in abs_path else filename  # "/tmp/<frozen runpy>" is no path
        if not path:
            path = _text(raw.get("module")) or "<unknown>"
        line = raw.get("lineno")
        column = raw.get("colno")
        raw_vars = raw.get("vars")
        variables: dict[str, Any] = {str(k): v for k, v in raw_vars.items()} if isinstance(raw_vars, dict) else {}
        frames.append(
            StackFrame(
                file=path,
                function=_text(raw.get("function")),
                line=line if isinstance(line, int) and line >= 0 else None,
                column=column if isinstance(column, int) and column >= 0 else None,
                module=_text(raw.get("module")),
                in_app=bool(raw.get("in_app", False)),
                context_line=redactor.text(raw["context_line"], max_length=500)
                if isinstance(raw.get("context_line"), str)
                else None,
                pre_context=tuple(redactor.text(x, max_length=500) for x in raw.get("pre_context") or [] if isinstance(x, str)),
                post_context=tuple(redactor.text(x, max_length=500) for x in raw.get("post_context") or [] if isinstance(x, str)),
                vars={str(k): redactor.text(str(v), max_length=300) for k, v in redactor.mapping(variables).items()},
            )
        )
    return tuple(frames)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def issue_from_sentry_event(
    event: dict[str, Any],
    *,
    target: str,
    service: str = "web",
    issue_id: str | None = None,
    severity: Severity = Severity.P2,
    producer: Producer = _SOURCE,
    redactor: Redactor | None = None,
) -> IssueDetected:
    """An IssueDetected for one Sentry event (the exception raised last, with the deepest stack)."""
    redactor = redactor or Redactor()
    values = _values(event)
    # Sentry's main exception (medic_stacktrace knows exception groups); a frameless one (a group
    # container) falls back to the latest exception that has frames.
    main_index = parse_sentry_event(event).main_index
    chosen = values[main_index] if main_index is not None and main_index < len(values) else None
    if chosen is None or not (chosen.get("stacktrace") or {}).get("frames"):
        chosen = next((v for v in reversed(values) if (v.get("stacktrace") or {}).get("frames")), values[-1] if values else None)
    exception = None
    frames: tuple[StackFrame, ...] = ()
    if chosen is not None:
        exception = ExceptionInfo(
            type=str(chosen.get("type") or "Error"),
            value=redactor.text(str(chosen.get("value") or ""), max_length=2000),
            module=_text(chosen.get("module")),
            chained=tuple(str(v.get("type") or "Error") for v in values if v is not chosen),
        )
        frames = frames_from_sentry(chosen, redactor=redactor)
    message_obj = event.get("logentry") or event.get("message") or ""
    message = message_obj.get("formatted") or message_obj.get("message") if isinstance(message_obj, dict) else str(message_obj)
    title = f"{exception.type}: {exception.value}" if exception else (message or "event")
    request = event.get("request") if isinstance(event.get("request"), dict) else None
    seen = _timestamp(event.get("timestamp"))
    fingerprint = hashlib.sha256(
        "|".join([exception.type if exception else title, *(f"{f.file}:{f.function}" for f in frames if f.in_app)]).encode()
    ).hexdigest()[:16]
    tags_raw = event.get("tags") or {}
    tags = (
        dict(tags_raw)
        if isinstance(tags_raw, dict)
        else {str(t[0]): str(t[1]) for t in tags_raw if isinstance(t, list | tuple) and len(t) == 2}
    )
    user = event.get("user") if isinstance(event.get("user"), dict) else {}
    return IssueDetected(
        producer=producer,
        issue_id=issue_id or f"iss_{fingerprint[:10]}",
        target=target,
        service=service,
        environment=str(event.get("environment") or "production"),
        severity=severity,
        issue_type=IssueType.FRONTEND_CRASH if event.get("platform") == "javascript" else IssueType.API_ERROR,
        title=redactor.text(title, max_length=480),
        message=redactor.text(title if exception else str(message), max_length=19_000),
        fingerprint=fingerprint,
        frequency=Frequency(count=1, window_seconds=300, total=1),
        affected_users=1 if user else 0,
        first_seen=seen,
        last_seen=seen,
        exception=exception,
        frames=frames,
        request=RequestContext(
            method=_text(request.get("method")),
            url=redactor.text(str(request.get("url") or ""), max_length=2000) or None,
            # Pairs and bodies are redacted by key first (``[["token", "v"]]``), then as text.
            query=redactor.text(str(redactor.value(request.get("query_string") or "")), max_length=2000) or None,
            body=redactor.text(str(redactor.value(request.get("data")))[:2000], max_length=2000) if request.get("data") else None,
        )
        if request
        else None,
        release=_text(event.get("release")),
        commit_sha=_text(tags.get("commit")) or _text(tags.get("git_sha")),
        source="sentry",
        # Tags named like secrets are replaced whole and tag keys are redacted too, as in the watcher.
        tags={k[:100]: redactor.text(v, max_length=200) for k, v in redactor.mapping(tags).items()},
    )
