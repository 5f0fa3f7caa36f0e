"""Untrusted text: fence it, truncate it, and flag what looks like an instruction to the model.

Error messages, log lines, request data and frame variables are attacker-influenced. Before any of
it reaches an LLM prompt it is redacted by the caller, truncated here and wrapped in a fence the
text itself cannot close. Injection attempts are flagged as evidence; confinement never depends
on the flag (the tools enforce it in code).
"""

from __future__ import annotations

import re
import secrets

from medic_contracts import Evidence

__all__ = ["INJECTION_PATTERNS", "fence", "find_injection", "glob_match", "truncate"]

INJECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "instruction_override",
        re.compile(
            r"(?i)\b(?:ignore|disregard|forget)\b.{0,40}\b(?:previous|prior|above|all|earlier)\b.{0,40}\b(?:instructions?|rules?|prompts?)"
        ),
    ),
    ("role_play", re.compile(r"(?i)\b(?:you are now|act as|new instructions|system prompt|developer mode|jailbreak)\b")),
    (
        "secret_file",
        re.compile(
            r"(?i)(?:^|[\s'\"`(/])(?:\.env(?:\.[\w-]+)?|id_rsa|id_ed25519|\.npmrc|\.pypirc|credentials(?:\.json)?|\.aws/|\.ssh/|\.netrc)\b"
        ),
    ),
    ("path_escape", re.compile(r"(?:\.\./){2,}|(?:^|[\s'\"`(])/(?:etc|root|proc|home|var/run|usr)/[\w./-]*")),
    (
        "tool_request",
        re.compile(
            r"(?i)\b(?:call|use|invoke|run)\b.{0,30}\b(?:tool|function|shell|bash|exec|curl|wget|write_file|delete_file|http_request)\b"
        ),
    ),
    (
        "exfiltration",
        re.compile(r"(?i)\b(?:send|post|upload|exfiltrate|leak)\b.{0,40}\b(?:to|at)\b.{0,20}(?:https?://|webhook|email)"),
    ),
    ("fence_break", re.compile(r"(?i)</?\s*(?:untrusted|system|assistant|tool_result|instructions?)[\s>-]")),
)


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n…[truncated {len(text) - limit} characters]"


def fence(label: str, text: str, *, limit: int = 4000) -> str:
    """Wrap untrusted ``text`` in a fence with a random tag it cannot guess or close."""
    tag = f"untrusted-{label}-{secrets.token_hex(4)}"
    body = truncate(text, limit).replace(f"</{tag}>", "")
    return f"<{tag}>\n{body}\n</{tag}>"


def find_injection(text: str, *, source: str) -> list[Evidence]:
    """Evidence of instructions hidden in telemetry (one item per kind found)."""
    found: list[Evidence] = []
    for name, pattern in INJECTION_PATTERNS:
        match = pattern.search(text)
        if match:
            snippet = text[max(match.start() - 30, 0) : match.end() + 30].replace("\n", " ")
            found.append(
                Evidence(
                    kind="injection_attempt",
                    summary=f"telemetry contains text aimed at the model ({name}); treated as data, tools stay confined",
                    detail=snippet[:300],
                    source=source,
                )
            )
    return found


def _glob_regex(glob: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE)


def glob_match(path: str, globs: tuple[str, ...] | list[str]) -> str | None:
    """The first glob (``**`` spans directories) matching a repository-relative path, or None."""
    clean = path.replace("\\", "/").removeprefix("./")
    for glob in globs:
        if _glob_regex(glob).match(clean):
            return glob
    return None
