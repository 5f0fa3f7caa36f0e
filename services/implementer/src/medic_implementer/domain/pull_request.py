"""The fix's pull request: its title, its body (root cause, fix, diff summary, tests, risk) and its risk rating."""

from __future__ import annotations

from medic_contracts import DiagnosisReady, FixStrategy, TestReport

from .candidates import diff_changes, diff_lines
from .commit_message import one_line

__all__ = ["pr_body", "pr_title", "risk"]


def pr_title(diagnosis: DiagnosisReady) -> str:
    """``fix: <issue title>``, one bounded line."""
    return f"fix: {one_line(diagnosis.issue.title, limit=80)}"


def risk(diff: str, within_evidence: bool, strategy: FixStrategy) -> str:
    """Low, medium or high, by the size of the diff and whether it stays in the evidence's files."""
    size = diff_lines(diff)
    level = "low" if size <= 20 and within_evidence else "medium" if size <= 100 else "high"
    return f"{level}: {size} changed lines, {strategy.value.replace('_', ' ')}" + (
        "" if within_evidence else ", touches files outside the evidence"
    )


def pr_body(
    diagnosis: DiagnosisReady, *, description: str, diff: str, tests: TestReport, regression_test: str | None, risk: str
) -> str:
    """The pull request's Markdown body; every text from the diagnosis is flattened to one line."""
    changes = "\n".join(
        f"- `{one_line(f'{c.old_path} -> {c.path}' if c.old_path else c.path, limit=500)}` (+{c.added}/-{c.removed})"
        for c in diff_changes(diff)
    )
    where = diagnosis.affected_file or "unknown"
    if diagnosis.affected_lines:
        where += f":{diagnosis.affected_lines.first}-{diagnosis.affected_lines.last}"
    return (
        f"## Root cause\n{one_line(diagnosis.root_cause, limit=2000)}\n\n"
        f"**Issue:** {one_line(diagnosis.issue.title)} ({diagnosis.issue.severity.value}, "
        f"{diagnosis.issue.affected_users} users affected)  \n**Affected:** `{one_line(where)}`\n\n"
        f"## Fix\n{one_line(description, limit=500)}\n\n## Diff summary\n{changes}\n\n"
        f"## Tests\n`{one_line(tests.command)}`: **{tests.outcome.value}** ({tests.passed} passed, {tests.failed} failed)"
        + (f"\nRegression test: `{regression_test}`" if regression_test else "")
        + f"\n\n## Risk\n{risk}\n\n---\nAuto-fixed by Medic · Issue ID `{one_line(diagnosis.issue_id)}`\n"
    )
