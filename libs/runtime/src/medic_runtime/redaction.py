"""The redactor: removes secrets and personal data from text before it leaves the watcher.

Error messages, log lines, URLs, headers and stack-frame variables are attacker-influenced and
routinely carry credentials. Everything the watcher stores or publishes passes through
:meth:`Redactor.text` or :meth:`Redactor.value`. Replacements name what was removed
(``[REDACTED:aws_access_key]``) so a diagnosis can still say "a key was logged here".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

__all__ = ["DEFAULT_RULES", "SENSITIVE_KEYS", "RedactionRule", "Redactor"]


@dataclass(frozen=True, slots=True)
class RedactionRule:
    """A named pattern; group ``secret`` (or the whole match) is replaced."""

    name: str
    pattern: re.Pattern[str]


def _rule(name: str, pattern: str, flags: int = 0) -> RedactionRule:
    return RedactionRule(name, re.compile(pattern, flags))


#: Order matters: specific token shapes first, then generic key=value and URL credentials, emails last.
DEFAULT_RULES: tuple[RedactionRule, ...] = (
    _rule("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    _rule("aws_access_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    _rule("aws_secret_key", r"(?i)(?:aws_?secret(?:_?access)?_?key|secretaccesskey)[\"'\s:=]+(?P<secret>[A-Za-z0-9/+=]{40})\b"),
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b"),
    _rule("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{10,}\b"),
    _rule("openai_key", r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b"),
    _rule("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})\b"),
    _rule("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    _rule("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
    _rule("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}\b"),
    _rule("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    _rule("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b"),
    _rule("bearer_token", r"(?i)\b(?:bearer|token|basic)\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})"),
    _rule("url_credentials", r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<secret>[^\s:/@]+:[^\s/@]*)@"),
    _rule(
        "secret_assignment",
        r"(?i)(?P<key>[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth|credential|"
        r"private[_-]?key|session|cookie|signature|dsn)[\w.-]*)(?P<sep>\"?\s*[:=]\s*\"?)(?P<secret>[^\s\"'&,;}]{3,})",
    ),
    _rule("credit_card", r"\b(?:\d[ -]?){13,19}\b(?<=\d)"),
    _rule("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"),
)

#: Mapping keys whose values are always redacted whatever they look like.
SENSITIVE_KEYS = re.compile(
    r"(?i)(password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|authorization|auth|cookie|"
    r"set-cookie|session|credential|private[_-]?key|signature|dsn|x-api-key)"
)


def _luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(slots=True)
class Redactor:
    """Applies redaction rules to text and nested values; truncates very long text."""

    rules: tuple[RedactionRule, ...] = DEFAULT_RULES
    max_length: int = 20_000
    extra_literals: tuple[str, ...] = field(default=())

    def text(self, value: str, *, max_length: int | None = None) -> str:
        """Redact one string and truncate it to ``max_length`` characters."""
        out = value
        for literal in self.extra_literals:
            if literal:
                out = out.replace(literal, "[REDACTED:configured_secret]")
        for rule in self.rules:
            out = rule.pattern.sub(partial(_replace, rule=rule), out)
        limit = self.max_length if max_length is None else max_length
        if len(out) > limit:
            out = out[:limit] + f"…[truncated {len(out) - limit} chars]"
        return out

    def value(self, value: Any, *, key: str | None = None, depth: int = 0) -> Any:
        """Redact a JSON-like value recursively; values under sensitive keys are replaced whole."""
        if key is not None and SENSITIVE_KEYS.search(key) and value not in (None, "", [], {}):
            return "[REDACTED:sensitive_key]"
        if depth > 20:
            return "[REDACTED:too_deep]"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(k): self.value(v, key=str(k), depth=depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, depth=depth + 1) for v in value]
        return value

    def mapping(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, str]:
        """Redact a flat string mapping (headers, tags, frame variables)."""
        items = values.items() if isinstance(values, Mapping) else values
        return {str(k): str(self.value(v, key=str(k))) for k, v in items}


def _replace(match: re.Match[str], rule: RedactionRule) -> str:
    label = f"[REDACTED:{rule.name}]"
    if rule.name == "credit_card":
        digits = re.sub(r"\D", "", match.group(0))
        if not (13 <= len(digits) <= 19 and _luhn_ok(digits)):
            return match.group(0)
    groups = match.re.groupindex
    if "secret" not in groups or match.group("secret") is None:
        return label
    start, end = match.span("secret")
    whole_start = match.start()
    text = match.group(0)
    return text[: start - whole_start] + label + text[end - whole_start :]
