"""Reading untrusted payload fields: coercions that never raise, timestamps, levels and route templates.

A field that is missing or of the wrong type comes back as None (or empty), so a normaliser built on
these reads any shape a sender invents without raising.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from medic_runtime.redaction import is_sensitive_key

from .observed import Level

__all__ = [
    "KEPT_HEADERS",
    "MAX_CONTEXT_LINE",
    "MAX_FRAMES",
    "MAX_HEADERS",
    "MAX_MESSAGE",
    "MAX_TRACE",
    "MAX_VARS",
    "SHA",
    "as_dict",
    "as_float",
    "as_int",
    "as_str",
    "first_record",
    "kept_header",
    "level_of",
    "parse_timestamp",
    "route_template",
]

MAX_MESSAGE = 8_000
MAX_TRACE = 50_000
MAX_CONTEXT_LINE = 500
MAX_VARS = 30
MAX_FRAMES = 100
KEPT_HEADERS = ("user-agent", "referer", "content-type", "accept", "x-request-id", "x-vercel-id")
MAX_HEADERS = 20
# Application headers (``x-...``) are kept for the replay unless they carry a secret or a network address.
_ADDRESS_HEADER = re.compile(r"(?i)forwarded|(?:^|-)ip$|-ip-|^x-real-|^x-client-|^x-original-|^x-envoy-|^x-amzn-")


def kept_header(name: str) -> bool:
    """Whether a request header is worth keeping on an issue: the usual content headers, and the application's
    own ``x-...`` headers (a tenant, a user or feature selector the handler reads, which a reproduction needs),
    except any whose name says it holds a secret (:func:`~medic_runtime.redaction.is_sensitive_key`: API keys,
    tokens, sessions, signatures) or a client's network address. Credentials (Authorization, Cookie) never are."""
    lowered = name.lower()
    if lowered in KEPT_HEADERS:
        return True
    return (
        lowered.startswith("x-")
        and len(lowered) <= 64
        and not is_sensitive_key(lowered)
        and _ADDRESS_HEADER.search(lowered) is None
    )


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
SHA = re.compile(r"^[0-9a-f]{7,40}$")
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


def level_of(value: Any, *, default: Level = "info") -> Level:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for threshold, name in _PINO_LEVELS:
            if value >= threshold:
                return name
        return "debug"
    if isinstance(value, str):
        return _LEVEL_ALIASES.get(value.strip().lower(), default)
    return default


def as_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and _SMALL_INT.fullmatch(value.strip()):
        return int(value)
    return None


def as_float(value: Any) -> float | None:
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


def as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def first_record(value: Any) -> Mapping[str, Any]:
    """Supabase metadata columns are arrays of records (or, in drains, plain objects)."""
    if isinstance(value, list):
        return as_dict(value[0]) if value else {}
    return as_dict(value)
