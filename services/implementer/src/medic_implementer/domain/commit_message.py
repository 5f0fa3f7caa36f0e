"""The fix commit's message: the seed's human-readable format plus machine-readable trailers.

The last paragraph holds git trailers (``Medic-Issue``, ``Medic-Event``, ``Medic-Attempt``,
``Medic-Diff-Hash``, ``Medic-Strategy``) so a redelivered event finds its own commit with
``git log`` instead of committing twice. Everything taken from the diagnosis is attacker-influenced
text: it is flattened to single lines and stripped of anything that looks like a trailer, so it
can never forge one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from medic_contracts import DiagnosisReady, FixStrategy, TestOutcome, TestReport

__all__ = ["TRAILER_EVENT", "TRAILER_ISSUE", "CommittedFix", "FileChange", "commit_message", "one_line", "read_commit_message"]

TRAILER_ISSUE = "Medic-Issue"
TRAILER_EVENT = "Medic-Event"
TRAILER_ATTEMPT = "Medic-Attempt"
TRAILER_DIFF = "Medic-Diff-Hash"
TRAILER_STRATEGY = "Medic-Strategy"

_TRAILERISH = re.compile(r"(?im)\b([A-Za-z][\w-]{0,40})\s*:\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class FileChange:
    """Lines added and removed in one file."""

    path: str
    added: int
    removed: int
    old_path: str | None = None  # the source of a rename or copy


def one_line(text: str | None, *, limit: int = 200) -> str:
    """Untrusted text made safe for a commit message: one line, no control characters, bounded."""
    flat = _CONTROL.sub(" ", (text or "").replace("\r", " ").replace("\n", " "))
    flat = re.sub(r"\s+", " ", flat).strip()
    # "Medic-Event: x" inside a value is defused so no reader mistakes it for a trailer.
    flat = re.sub(r"(?i)medic-(\w+)\s*:", r"medic-\1 -", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def sandbox_line(tests: TestReport) -> str:
    """How the gating tests were sandboxed, for the commit message (read back by :func:`sandbox_from_line`)."""
    if tests.sandboxed is None:
        return "not recorded"
    return "full" if tests.sandboxed else "missing " + "; ".join(tests.sandbox_missing)


def sandbox_from_line(line: str | None) -> tuple[bool | None, tuple[str, ...]]:
    """``(sandboxed, missing)`` from a commit message's ``Sandbox:`` line (None when absent or not recorded)."""
    if line == "full":
        return True, ()
    if line is not None and line.startswith("missing "):
        return False, tuple(m.strip() for m in line.removeprefix("missing ").split(";") if m.strip())
    return None, ()


def commit_message(
    *,
    diagnosis: DiagnosisReady,
    summary: str,
    fix_description: str,
    changes: Sequence[FileChange],
    tests: TestReport,
    regression_test: str | None,
    diff_hash: str,
    strategy: str,
    attempt: int,
) -> str:
    """The full commit message for a fix (subject, body, trailers)."""
    issue = diagnosis.issue
    where = diagnosis.affected_file or "unknown"
    if diagnosis.affected_lines:
        where += f":{diagnosis.affected_lines.first}-{diagnosis.affected_lines.last}"
    # names are untrusted: one line each (a newline in a file name must not forge a trailer)
    change_lines = [
        f"- {one_line(f'{c.old_path} -> {c.path}' if c.old_path else c.path, limit=500)} (+{c.added}/-{c.removed})"
        for c in changes
    ] or ["- (none)"]
    test_line = f"{tests.command}: {tests.outcome.value}"
    if tests.passed or tests.failed:
        test_line += f" ({tests.passed} passed, {tests.failed} failed)"
    body = [
        f"fix: {one_line(summary, limit=68)}",
        "",
        f"Issue: {one_line(issue.title)}",
        f"Root Cause: {one_line(diagnosis.root_cause, limit=500)}",
        f"Affected: {one_line(where)}",
        f"Severity: {issue.severity.value}",
        f"Fix: {one_line(fix_description, limit=300)}",
        "Changes:",
        *(one_line(line, limit=300) for line in change_lines),
        f"Tests: {one_line(test_line)}",
        f"Sandbox: {one_line(sandbox_line(tests))}",
    ]
    if regression_test:
        body.append(f"Regression test: {one_line(regression_test)}")
    body += [
        "",
        "Auto-fixed by Medic",
        f"Issue ID: {one_line(diagnosis.issue_id)}",
        "",
        f"{TRAILER_ISSUE}: {one_line(diagnosis.issue_id)}",
        f"{TRAILER_EVENT}: {one_line(diagnosis.event_id)}",
        f"{TRAILER_ATTEMPT}: {attempt}",
        f"{TRAILER_STRATEGY}: {one_line(strategy)}",
        f"{TRAILER_DIFF}: {diff_hash}",
    ]
    return "\n".join(body) + "\n"


@dataclass(frozen=True, slots=True)
class CommittedFix:
    """What a fix commit's message says about the fix: read back when a redelivered event resumes it."""

    strategy: FixStrategy
    description: str
    tests: TestReport
    regression_test: str | None


def read_commit_message(message: str, *, test_command: str) -> CommittedFix:
    """The fix a message written by :func:`commit_message` describes (``test_command`` when it names none)."""
    strategy_match = re.search(r"^Medic-Strategy: (\S+)$", message, re.M)
    try:
        strategy = FixStrategy(strategy_match.group(1)) if strategy_match else FixStrategy.LLM_EDIT
    except ValueError:
        strategy = FixStrategy.LLM_EDIT
    tests_match = re.search(r"^Tests: (.*): passed(?: \((\d+) passed, (\d+) failed\))?$", message, re.M)
    sandbox_match = re.search(r"^Sandbox: (.*)$", message, re.M)
    sandboxed, sandbox_missing = sandbox_from_line(sandbox_match.group(1) if sandbox_match else None)
    tests = TestReport(
        command=tests_match.group(1) if tests_match else test_command,
        outcome=TestOutcome.PASSED,
        passed=int(tests_match.group(2) or 0) if tests_match else 0,
        failed=int(tests_match.group(3) or 0) if tests_match else 0,
        summary="tests passed before this commit was made",
        sandboxed=sandboxed,
        sandbox_missing=sandbox_missing,
    )
    regression_match = re.search(r"^Regression test: (.+)$", message, re.M)
    fix_match = re.search(r"^Fix: (.+)$", message, re.M)
    return CommittedFix(
        strategy=strategy,
        description=fix_match.group(1) if fix_match else strategy.value,
        tests=tests,
        regression_test=regression_match.group(1) if regression_match else None,
    )
