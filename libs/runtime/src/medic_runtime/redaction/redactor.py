"""The redactor: removes secrets and personal data from text and nested values.

Error messages, log lines, URLs, headers, stack-frame variables and the files an LLM is shown are
attacker-influenced or routinely carry credentials. Everything the watcher stores or publishes,
and every file body the investigator or the fixer sends to a model, passes through
:meth:`Redactor.text`, :meth:`Redactor.value` or :meth:`Redactor.file_body`. Replacements name
what was removed (``[REDACTED:aws_access_key]``) so a diagnosis can still say "a key was logged
here"; a replaced span keeps its line breaks, so line numbers in a file stay true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .fields import FIELD_KEYWORDS, HEADER_PAIR, KEYED_PAIR, LIST_PAIR, is_sensitive_key, value_is_reference
from .prefilter import required_literals
from .rules import PII_RULES, TOKEN_RULES, RedactionRule, detect_secrets_rules
from .structured import sensitive_leaves

__all__ = ["DEFAULT_RULES", "PII_RULES", "Redactor", "default_rules"]

_NO_DIGITS = str.maketrans("", "", "0123456789")
_FIELD_SET = frozenset(FIELD_KEYWORDS)
# ASCII-only lowering keeps every index where it was (str.lower can lengthen some non-ASCII letters).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_VALUE_GROUPS = ("v1", "v2", "v3", "v4", "v5", "v6")
_MARK = "[REDACTED:"
# What the first item of a ``[name, value]`` pair looks like: a bare name, not a sentence.
_BARE_KEY = re.compile(r"^[A-Za-z_$@][A-Za-z0-9_.$@-]{0,80}$")


@cache
def default_rules() -> tuple[RedactionRule, ...]:
    """Medic's token rules, then detect-secrets' (loaded once); personal data is :data:`PII_RULES`."""
    return (*TOKEN_RULES, *detect_secrets_rules())


DEFAULT_RULES: tuple[RedactionRule, ...] = default_rules()


def _label(name: str, secret: str) -> str:
    # Keep the line count of what was removed: file bodies are shown with line numbers.
    return f"{_MARK}{name}]" + "\n" * secret.count("\n")


def _splice(text: str, start: int, end: int, name: str) -> str:
    return text[:start] + _label(name, text[start:end]) + text[end:]


def _rule_sub(rule: RedactionRule, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if rule.valid is not None and not rule.valid(whole):
            return whole
        groups = match.re.groupindex
        if "secret" in groups:
            span = match.span("secret")
        elif match.re.groups:
            span = match.span(1)
        else:
            span = match.span()
        if span[0] < 0 or span[0] == span[1] or match.string[span[0] : span[1]].startswith(_MARK):
            return whole
        offset = match.start()
        return _splice(whole, span[0] - offset, span[1] - offset, rule.name)

    return rule.pattern.sub(replace, text)


def _keyed_span(match: re.Match[str]) -> tuple[int, int] | None:
    """The span of the value to replace, or None when the key is not sensitive after all."""
    lead = match.group("lead") or ""
    group = next((g for g in _VALUE_GROUPS if match.group(g) is not None), None)
    if group is None:
        return None
    in_query = lead in ("?", "&") or lead.lower() in ("%26", "%3f")
    if not is_sensitive_key(match.group("key"), in_query=in_query) or value_is_reference(match.group(group)):
        return None
    return match.span(group)


_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$@-")


def _pair_starts(text: str, lowered: str) -> list[int]:
    """Where a pair may start: the beginning (quote and ``?``/``&`` included) of each key holding a keyword."""
    starts: set[int] = set()
    for word in FIELD_KEYWORDS:
        at = lowered.find(word)
        while at >= 0:
            key = at
            while key > 0 and text[key - 1] in _KEY_CHARS and at - key < 80:
                key -= 1
            start = key
            if text[start - 2 : start] in ('\\"', "\\'"):
                start -= 2
            elif start and text[start - 1] in "\"'`":
                start -= 1
            if start and text[start - 1] in "?&;":
                start -= 1
            elif text[start - 3 : start].lower() in ("%26", "%3f"):
                start -= 3
            starts.update((start, key))
            at = lowered.find(word, at + len(word))
    return sorted(starts)


def _keyed_scan(text: str) -> str:
    # Anchored matches at candidate keys rather than a search or re.sub: most lines hold no key worth
    # trying, and a pair that turns out harmless (``author: https://x?token=y``) must not swallow the
    # sensitive pair inside its value.
    parts: list[str] = []
    done = 0
    for start in _pair_starts(text, text.translate(_ASCII_LOWER)):
        if start < done:
            continue
        match = KEYED_PAIR.match(text, start)
        span = _keyed_span(match) if match is not None else None
        if span is None or span[0] < done:
            continue
        parts += [text[done : span[0]], _label("sensitive_key", text[span[0] : span[1]])]
        done = span[1]
    parts.append(text[done:])
    return "".join(parts)


_HEADER_WORDS = ("authorization", "cookie", "x-api-key", "x-auth-token", "x-csrf-token")


def _keyed_pairs(text: str, lowered: str) -> str:
    out = _keyed_scan(text)
    if any(w in lowered for w in _HEADER_WORDS):
        out = HEADER_PAIR.sub(lambda m: _splice(m.group(0), *_rel(m, "secret"), "sensitive_key"), out)
    if "," not in out:
        return out

    def list_pair(m: re.Match[str]) -> str:
        if not is_sensitive_key(m.group("key"), in_query=True) or value_is_reference(m.group("secret")):
            return m.group(0)
        return _splice(m.group(0), *_rel(m, "secret"), "sensitive_key")

    return LIST_PAIR.sub(list_pair, out)


def _rel(match: re.Match[str], group: str) -> tuple[int, int]:
    start, end = match.span(group)
    return start - match.start(), end - match.start()


_MEMO_MAX_CHARS = 512  # short values (messages, routes, tags) repeat in a flood: their redaction is remembered
# Small on purpose: the values that repeat in a flood are few (one message, a route, a tag), and values seen once
# (messages with ids) only fill it; cleared when full, so its whole size (at most ~1,024 short strings) is the
# swing a long run sees.
_MEMO_ENTRIES = 1024


@dataclass(slots=True)
class Redactor:
    """Applies redaction rules to text and nested values; truncates very long text.

    Each regex runs only when a cheap test says it could match: one of its rule's keywords is in the
    lower-cased text, the text has the digits it needs, and one of the literals every match of it
    contains (read off the pattern, :func:`.prefilter.required_literals`) is in the text as it stands.
    The literal test cannot change the output, only skip regex scans that would find nothing;
    ``literal_prefilter=False`` turns it (and the memo of short values) off, to prove that.
    """

    rules: tuple[RedactionRule, ...] = field(default_factory=default_rules)
    pii_rules: tuple[RedactionRule, ...] = PII_RULES
    max_length: int = 20_000
    extra_literals: tuple[str, ...] = field(default=())
    field_rules: bool = True
    literal_prefilter: bool = True
    _keywords: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _gates: tuple[tuple[RedactionRule, frozenset[str], tuple[str, ...]], ...] = field(init=False, repr=False, compare=False)
    _always: frozenset[int] = field(init=False, repr=False, compare=False)
    _by_keyword: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _by_first: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    _memo: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Every keyword is looked for once per text; each rule then asks only "was one of mine there?".
        gates = tuple(
            (rule, frozenset(rule.keywords), required_literals(rule.pattern) if self.literal_prefilter else ())
            for rule in (*self.rules, *self.pii_rules)
        )
        self._gates = gates
        self._keywords = tuple(sorted({k for _, kws, _ in gates for k in kws} | set(FIELD_KEYWORDS)))
        self._always = frozenset(i for i, (_, kws, _) in enumerate(gates) if not kws)
        by_keyword: dict[str, list[int]] = {}
        for i, (_, kws, _) in enumerate(gates):
            for k in kws:
                by_keyword.setdefault(k, []).append(i)
        self._by_keyword = {k: tuple(v) for k, v in by_keyword.items()}
        by_first: dict[str, list[str]] = {}
        for k in self._keywords:
            by_first.setdefault(k[0], []).append(k)
        self._by_first = {ch: tuple(v) for ch, v in by_first.items()}
        self._memo = {}

    def _present(self, lowered: str) -> set[str]:
        """The keywords in ``lowered``: only those whose first character occurs in it are looked for."""
        if not self.literal_prefilter:
            return {k for k in self._keywords if k in lowered}
        chars = set(lowered)
        return {k for ch, kws in self._by_first.items() if ch in chars for k in kws if k in lowered}

    def _redact(self, value: str) -> str:
        if not self.literal_prefilter or len(value) > _MEMO_MAX_CHARS:
            return self._redact_now(value)
        cached = self._memo.get(value)
        if cached is None:
            cached = self._redact_now(value)
            if len(self._memo) >= _MEMO_ENTRIES:
                self._memo.clear()
            self._memo[value] = cached
        return cached

    def _redact_now(self, value: str) -> str:
        out = value
        for literal in self.extra_literals:
            if literal:
                out = out.replace(literal, f"{_MARK}configured_secret]")
        lowered = out.lower()
        present = self._present(lowered)
        digits = len(out) - len(out.translate(_NO_DIGITS))
        pii_from = len(self.rules)
        keyed = self.field_rules and not present.isdisjoint(_FIELD_SET)
        candidates = set(self._always)
        for k in present:
            candidates.update(self._by_keyword.get(k, ()))
        for index in sorted(candidates):
            rule, keywords, literals = self._gates[index]
            if keyed and index >= pii_from:
                # Personal data after the keyed pairs: a password that looks like a phone number is named a password.
                out = _keyed_pairs(out, lowered)
                keyed = False
            if rule.min_digits > digits or (keywords and present.isdisjoint(keywords)):
                continue
            if literals and not any(lit in out for lit in literals):
                continue  # no match can exist in ``out`` as it stands: the regex would find nothing
            out = _rule_sub(rule, out)
        if keyed:
            out = _keyed_pairs(out, lowered)
        return out

    def text(self, value: str, *, max_length: int | None = None) -> str:
        """Redact one string and truncate it to ``max_length`` characters."""
        out = self._redact(value)
        limit = self.max_length if max_length is None else max_length
        if len(out) > limit:
            out = out[:limit] + f"…[truncated {len(out) - limit} chars]"
        return out

    def file_body(self, body: str, path: str | None = None) -> str:
        """Redact a whole file before any of it is shown to a model: never truncated, line count kept.

        A file is redacted whole, not line by line, so that a key block, a YAML block scalar or a value
        written on the line after its key is seen as one. With a ``path`` naming a JSON or YAML file,
        values below a sensitive key (``{"SECRET": {"value": "..."}}``) go too.
        """
        out = body
        if path is not None:
            for pattern in sensitive_leaves(body, path):
                out = pattern.sub(lambda m: _label("sensitive_key", m.group(0)), out)
        return self._redact(out)

    def value(self, value: Any, *, key: str | None = None, depth: int = 0) -> Any:
        """Redact a JSON-like value recursively; values under sensitive keys are replaced whole.

        A two-element list whose first item is a sensitive name (``["token", "v"]``, the shape of
        Sentry's ``query_string``, headers and cookies) has its second item replaced.
        """
        if key is not None and is_sensitive_key(key) and value not in (None, "", [], {}):
            return f"{_MARK}sensitive_key]"
        if depth > 20:
            return f"{_MARK}too_deep]"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k), max_length=200): self.value(v, key=str(k), depth=depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            if (
                len(value) == 2
                and isinstance(value[0], str)
                and _BARE_KEY.match(value[0])
                and is_sensitive_key(value[0], in_query=True)
            ):
                return [value[0], f"{_MARK}sensitive_key]" if value[1] not in (None, "") else value[1]]
            return [self.value(v, depth=depth + 1) for v in value]
        return value

    def mapping(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, str]:
        """Redact a flat string mapping (headers, tags, frame variables); keys are redacted as text too.

        A value that is not text (a JavaScript SDK's frame variable holding an array or an object) becomes JSON
        after redaction, not a Python repr, so it can be read back as the value it was."""
        items = values.items() if isinstance(values, Mapping) else values
        flat = {self.text(str(k), max_length=200): self.value(v, key=str(k)) for k, v in items}
        return {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in flat.items()}
