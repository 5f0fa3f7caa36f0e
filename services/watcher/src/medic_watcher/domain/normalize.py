"""Normalisation: every source's payload into one redacted :class:`ObservedEvent`.

Input here is attacker-influenced (error text, URLs, headers, log lines): each string goes
through the :class:`Redactor` and is truncated before it is kept, and nothing raises on odd
shapes: a field that is missing or of the wrong type is simply absent from the result.
:class:`Normaliser` holds what every shape shares (text, requests, frames); each payload shape
is read in the module of its source: :mod:`.normalize_sentry`, :mod:`.normalize_logs`,
:mod:`.normalize_platforms` (Vercel, Supabase); field coercions are in :mod:`.fields`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from medic_contracts import Link, RequestContext, StackFrame
from medic_runtime import Redactor
from medic_stacktrace import is_library_path

from .fields import (
    MAX_CONTEXT_LINE,
    MAX_HEADERS,
    MAX_MESSAGE,
    MAX_VARS,
    as_dict,
    as_float,
    as_int,
    as_str,
    kept_header,
    route_template,
)
from .normalize_logs import log_line, log_record
from .normalize_platforms import supabase_row, vercel_entry
from .normalize_sentry import sentry_event
from .observed import ObservedEvent, RouteSample

__all__ = ["Normaliser", "route_sample"]


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

    def text(self, value: Any, limit: int = MAX_MESSAGE) -> str:
        """Redacted, truncated text ('' for non-strings)."""
        raw = as_str(value)
        if not raw:
            return ""
        # Cut before redacting too: a 10 MB line must not cost 10 MB of regex work.
        return self.redactor.text(raw[: limit * 2], max_length=limit)

    def user_key(self, value: Any) -> str | None:
        """A stable hash of a user identity: distinct users can be counted, the identity is not kept."""
        raw = as_str(value)
        if not raw:
            return None
        return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:16]

    def request_context(
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
        """A redacted request context from whichever request fields a source has (None when it has none)."""
        url_text = as_str(url)
        route_text = as_str(route) or (route_template(url_text) if url_text else None)
        method_text = as_str(method)
        status_int = as_int(status)
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
            name = str(key)
            if len(kept) < MAX_HEADERS and kept_header(name) and as_str(value):
                kept[name.lower()] = self.text(value, 300)
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
            duration_ms=as_float(duration),
            query=self.text(query_text, 2000) or None,
            body=self.text(body_text, 2000) or None,
            headers=kept,
        )

    def stack_frame(self, raw: Mapping[str, Any]) -> StackFrame | None:
        """A redacted frame from a Sentry-protocol frame (None without any file, path or module)."""
        file = as_str(raw.get("filename")) or as_str(raw.get("abs_path")) or as_str(raw.get("module"))
        if not file:
            return None
        in_app = raw.get("in_app")
        variables = as_dict(raw.get("vars"))
        return StackFrame(
            file=self.text(file, 500),
            function=self.text(raw.get("function"), 300) or None,
            line=lineno if (lineno := as_int(raw.get("lineno"))) is not None and lineno >= 0 else None,
            column=colno if (colno := as_int(raw.get("colno"))) is not None and colno >= 0 else None,
            module=self.text(raw.get("module"), 300) or None,
            # An SDK that marks installed packages in-app is misconfigured; the path is the better witness.
            in_app=(in_app if isinstance(in_app, bool) else True) and not is_library_path(as_str(raw.get("abs_path")) or file),
            context_line=self.text(raw.get("context_line"), MAX_CONTEXT_LINE) or None,
            pre_context=tuple(self.text(x, MAX_CONTEXT_LINE) for x in (raw.get("pre_context") or [])[-5:] if isinstance(x, str)),
            post_context=tuple(self.text(x, MAX_CONTEXT_LINE) for x in (raw.get("post_context") or [])[:5] if isinstance(x, str)),
            vars={
                k: self.text(v if isinstance(v, str) else json.dumps(v, default=str), 300)
                for k, v in self.redactor.mapping(list(variables.items())[:MAX_VARS]).items()
            },
        )

    # ---- one method per payload shape (each in the module of its source) ---------------------

    def sentry_event(
        self, event: Mapping[str, Any], *, service: str, source: str = "sentry", now: datetime, links: tuple[Link, ...] = ()
    ) -> ObservedEvent:
        """A Sentry-protocol event (as SDKs send it, or as the REST API returns it)."""
        return sentry_event(self, event, service=service, source=source, now=now, links=links)

    def log_record(self, record: Mapping[str, Any], *, service: str, source: str = "logfile", now: datetime) -> ObservedEvent:
        """One JSON log object (house format, pino, python-json-logger, structlog aliases)."""
        return log_record(self, record, service=service, source=source, now=now)

    def log_line(self, line: str, *, service: str, source: str = "logfile", now: datetime) -> ObservedEvent:
        """A raw log line: JSON when it parses as an object, else plain text (level guessed from words)."""
        return log_line(self, line, service=service, source=source, now=now)

    def vercel_entry(self, entry: Mapping[str, Any], *, service: str, now: datetime) -> ObservedEvent:
        """One Vercel log drain / runtime log entry."""
        return vercel_entry(self, entry, service=service, now=now)

    def supabase_row(self, row: Mapping[str, Any], *, table: str, service: str, now: datetime) -> ObservedEvent:
        """One Supabase log row (Logs Explorer / Management API), metadata as array or object."""
        return supabase_row(self, row, table=table, service=service, now=now)


def route_sample(event: ObservedEvent) -> RouteSample | None:
    """The request an event describes, for traffic/error-rate/latency baselines (None when it is not one)."""
    req = event.request
    if req is None or req.status is None or not req.route:
        return None
    return RouteSample(
        service=event.service, route=req.route, timestamp=event.timestamp, status=req.status, duration_ms=req.duration_ms
    )
