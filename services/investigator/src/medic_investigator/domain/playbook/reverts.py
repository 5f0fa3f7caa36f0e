"""Revert rules: when the suspect commit itself is what to undo (it removed a check, renamed a key)."""

from __future__ import annotations

import re

from medic_contracts import Evidence, FixStrategy

from ..code import CodeContext
from ..diagnosis import Diagnosis, Investigation, SuspectSummary
from ..error_kinds import Failure
from .verdicts import STRATEGY_MINUTES, hint_text, unquote

__all__ = ["revert_diagnosis", "strong_revert_reason"]


def _removed_mentions(suspect: SuspectSummary | None, *needles: str | None) -> bool:
    if suspect is None:
        return False
    words = [n for n in needles if n]
    if not words:
        return False
    removed = "\n".join(suspect.removed_lines)
    added = "\n".join(suspect.added_lines)
    return any(re.search(rf"\b{re.escape(w)}\b", removed) and not re.search(rf"\b{re.escape(w)}\b", added) for w in words)


def _removed_guard(suspect: SuspectSummary | None, name: str) -> bool:
    """The suspect commit deleted a None/undefined check of ``name`` (reverting restores it)."""
    if suspect is None or not name:
        return False
    n = re.escape(name)
    guard = re.compile(
        rf"(?:if\s+(?:not\s+{n}\b|{n}\s+is\s+None)|if\s*\(\s*!\s*{n}\b|{n}\s*[!=]==?\s*(?:null|undefined)|{n}\s*\?\?|{n}\?\.)"
    )
    return any(guard.search(line) for line in suspect.removed_lines) and not any(
        guard.search(line) for line in suspect.added_lines
    )


def revert_diagnosis(inv: Investigation, ctx: CodeContext, reason: str, confidence: float) -> Diagnosis:
    """Revert the suspect commit, or only its change to the fault lines when it also changed other code."""
    suspect = inv.suspect
    assert suspect is not None
    partial = suspect.modifies_other_files and not suspect.fault_file_added
    strategy = FixStrategy.PARTIAL_REVERT if partial else FixStrategy.REVERT_COMMIT
    scope = "its change to these lines" if partial else "the whole commit"
    cause = (
        f'{reason}; the error began with commit {suspect.sha[:12]} "{suspect.subject[:120]}" '
        f"({suspect.date:%Y-%m-%d %H:%M} UTC), which changed these lines; revert {scope}"
    )
    hint = hint_text(
        strategy,
        commit=suspect.sha,
        subject=suspect.subject[:200],
        file=ctx.file,
        lines=f"{ctx.statement_first}-{ctx.statement_last}",
        restore="\n  ".join(line.strip() for line in suspect.hunk_removed[:12]) if partial and suspect.hunk_removed else None,
    )
    return Diagnosis(
        root_cause=cause,
        affected_file=ctx.file,
        affected_lines=(ctx.statement_first, ctx.statement_last),
        affected_function=ctx.function.name if ctx.function else None,
        fix_strategy=strategy,
        confidence=confidence,
        fixability=0.8,
        estimated_fix_minutes=STRATEGY_MINUTES[strategy],
        fix_hint=hint,
        evidence=(
            Evidence(
                kind="git_blame",
                summary=f"fault lines last changed by {suspect.sha[:12]} ({len(suspect.removed_lines)} line(s) removed there)",
                source=f"{ctx.file}:{ctx.line}",
            ),
        ),
    )


_ANY_GUARD = re.compile(
    r"(?:\?\?|\?\.|\bif\s+not\b|\bis\s+(?:not\s+)?None\b|\bif\s*\(\s*!|[!=]==?\s*(?:null|undefined)|\.get\(|\btry\b|\bexcept\b|"
    r"\bcatch\b|\blen\(|\.length\b|\bif\s*\(?\s*\w+\s*\)?\s*:?\s*$)"
)


def strong_revert_reason(inv: Investigation, ctx: CodeContext, failure: Failure, expression: str) -> str | None:
    """Why the suspect commit itself is the fix's target: it removed a check, or renamed what is missing."""
    suspect = inv.suspect
    if suspect is None:
        return None
    if expression and (_removed_guard(suspect, expression) or _guard_in(suspect.other_removed, expression)):
        return f"the commit removed the check for `{expression}`"
    removed_guards = [line for line in suspect.hunk_removed if _ANY_GUARD.search(line)]
    added_guards = [line for line in suspect.hunk_added if _ANY_GUARD.search(line)]
    if removed_guards and not added_guards:
        return f"the commit replaced a guarded line (`{removed_guards[0].strip()[:100]}`) with one that fails"
    key = unquote(failure.member)
    if failure.kind == "missing_key" and key:
        old = _renamed_key(suspect, key)
        if old is not None:
            return f"the commit changed the key read here from `{old}` to `{key}`, which the data does not carry"
    if failure.kind == "missing_key" and _removed_mentions(suspect, key):
        return f"the commit renamed or removed the key `{key}`"
    return None


_SUBSCRIPT_KEY = re.compile(r"([\w$.]+)\[\s*['\"]([^'\"]+)['\"]\s*\]|([\w$]+)\.get\(\s*['\"]([^'\"]+)['\"]")


def _keys(lines: tuple[str, ...]) -> set[tuple[str, str]]:
    found = set()
    for line in lines:
        for m in _SUBSCRIPT_KEY.finditer(line):
            found.add((m.group(1) or m.group(3), m.group(2) or m.group(4)))
    return found


def _renamed_key(suspect: SuspectSummary, key: str) -> str | None:
    """The key the fault hunk used to read on the same container, when the commit replaced it with ``key``."""
    removed, added = _keys(suspect.hunk_removed), _keys(suspect.hunk_added)
    containers = {c for c, k in added if k == key} - {c for c, k in removed if k == key}
    for container, old in removed:
        if container in containers and old != key and (container, old) not in added:
            return old
    return None


def _guard_in(lines: tuple[str, ...], name: str) -> bool:
    n = re.escape(name)
    guard = re.compile(
        rf"(?:if\s+(?:not\s+{n}\b|{n}\s+is\s+None)|if\s*\(\s*!\s*{n}\b|{n}\s*[!=]==?\s*(?:null|undefined)|{n}\s*\?\?)"
    )
    return any(guard.search(line) for line in lines)
