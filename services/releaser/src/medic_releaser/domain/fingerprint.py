"""Fingerprints of errors in JSON-lines application logs (new-error detection during a watch).

Attacker-influenced text (messages, paths) is reduced to a stable shape: numbers, hex ids, UUIDs,
emails and quoted values are masked, so the same error with different data has one fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from medic_contracts import IssueBrief

__all__ = ["LogError", "fingerprint_of", "from_release", "matches_issue", "normalize_message", "parse_log_error"]

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "<email>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{12,}\b"), "<hex>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\d+(\.\d+)?"), "<n>"),
)
_ERROR_LEVELS = {"error", "fatal", "critical", "50", "60"}
#: Fields a log line names the release that wrote it with (Sentry's ``release``, a commit, a deployment id).
_RELEASE_FIELDS = ("release", "commit", "commit_sha", "git_sha", "sha", "deployment", "deployment_id")
_SHA = re.compile(r"[0-9a-f]{7,40}")


def normalize_message(text: str) -> str:
    """The message with data masked and whitespace collapsed (at most 300 characters)."""
    out = text[:2000]
    for pattern, repl in _MASKS:
        out = pattern.sub(repl, out)
    return " ".join(out.split())[:300]


@dataclass(frozen=True, slots=True)
class LogError:
    """An error entry of the application log."""

    type: str
    message: str
    route: str | None
    fingerprint: str
    explicit_fingerprint: str | None
    release: str | None = None  # the release the line says wrote it; None when untagged


def fingerprint_of(error_type: str, message: str, route: str | None) -> str:
    """A short stable hash of the error's type, masked message and route."""
    basis = f"{error_type}|{normalize_message(message)}|{route or ''}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _level(entry: dict[str, Any]) -> str:
    raw = entry.get("level", entry.get("levelname", ""))
    return str(raw).lower()


def parse_log_error(line: str) -> LogError | None:
    """The error in one JSON log line, or None when the line is not an error (or not JSON)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    err = entry.get("error") or entry.get("err")
    if _level(entry) not in _ERROR_LEVELS and not isinstance(err, dict):
        return None
    message = str(entry.get("msg") or entry.get("message") or "")
    error_type = "Error"
    if isinstance(err, dict):
        error_type = str(err.get("type") or err.get("name") or "Error")
        message = str(err.get("message") or message)
    elif isinstance(entry.get("exc_info"), str):
        last = entry["exc_info"].strip().splitlines()[-1:] or [""]
        error_type, _, rest = last[0].partition(":")
        message = rest.strip() or message
    route = entry.get("route")
    route_text = str(route) if route is not None else None
    explicit = entry.get("fingerprint")
    release = next((str(entry[k]) for k in _RELEASE_FIELDS if entry.get(k) not in (None, "")), None)
    return LogError(
        type=error_type[:200],
        message=message[:2000],
        route=route_text,
        fingerprint=fingerprint_of(error_type, message, route_text),
        explicit_fingerprint=str(explicit) if explicit is not None else None,
        release=release[:200] if release is not None else None,
    )


def from_release(error: LogError, release: frozenset[str]) -> bool:
    """True when the line is tagged with one of ``release``'s names (a deployment id, a commit sha short or long).

    An untagged line is never "from" a release: errors nobody can attribute count against the new one.
    """
    tag = error.release
    if tag is None or not release:
        return False
    if tag in release:
        return True
    if _SHA.fullmatch(tag.lower()):
        return any(_SHA.fullmatch(name) and (name.startswith(tag.lower()) or tag.lower().startswith(name)) for name in release)
    return False


def matches_issue(error: LogError, issue: IssueBrief) -> bool:
    """True when a log error is the issue a fix targeted (same fingerprint, or the same type and message)."""
    if issue.fingerprint in (error.fingerprint, error.explicit_fingerprint):
        return True
    title = normalize_message(issue.title)
    return title in (normalize_message(f"{error.type}: {error.message}"), normalize_message(error.message))
