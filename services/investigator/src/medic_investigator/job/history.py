"""Step 4, the history: the commit that last changed the fault lines (git log/blame through the adapter)."""

from __future__ import annotations

import re
from datetime import timedelta

from medic_contracts import IssueDetected

from ..adapters.history import History, read_history
from ..adapters.repo import Repository
from ..domain.code import CodeContext
from ..domain.diagnosis import SuspectSummary

__all__ = ["suspect_commit"]

_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec|check)/|(?:^|/)test_[^/]*\.py$|_test\.py$|\.(?:test|spec)\.[jt]sx?$")


async def suspect_commit(
    repo: Repository, issue: IssueDetected, culprit: CodeContext, *, window: timedelta
) -> SuspectSummary | None:
    """The suspect commit of the culprit statement (and the lines its values were bound on), or None."""
    binding_lines = tuple(b.line for b in culprit.bindings if b.kind == "assignment")
    history = await read_history(
        repo,
        file=culprit.file,
        first=culprit.statement_first,
        last=culprit.statement_last,
        extra_lines=binding_lines,
        first_seen=issue.first_seen,
        release=issue.release,
        deployed_commit=issue.commit_sha,
        window=window,
    )
    return _summary(history, culprit)


def _is_test_path(path: str) -> bool:
    return _TEST_PATH.search(path) is not None


def _summary(history: History, ctx: CodeContext) -> SuspectSummary | None:
    commit = history.suspect
    if commit is None:
        return None
    hunk_removed, hunk_added = commit.hunk_near(ctx.statement_first, ctx.statement_last)
    return SuspectSummary(
        sha=commit.sha,
        author=commit.author,
        date=commit.date,
        subject=commit.subject,
        landed_before_first_seen=history.landed_before_first_seen,
        touches_fault_lines=history.suspect_touches_lines,
        deploy_id=history.deploy_id,
        hunk_removed=tuple(hunk_removed),
        hunk_added=tuple(hunk_added),
        other_removed=commit.other_removed,
        fault_file_added=any(status == "A" and path == ctx.file for status, path in commit.files),
        modifies_other_files=any(status != "A" and path != ctx.file and not _is_test_path(path) for status, path in commit.files),
        removed_lines=tuple(commit.removed_lines()),
        added_lines=tuple(commit.added_lines()),
        diff=commit.diff,
    )
