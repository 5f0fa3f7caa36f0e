"""Step 4, the history: the commit that last changed the fault lines (git log/blame through the adapter), or,
when the error says a name is missing, the commit that removed or renamed it (``git log -S`` through the adapter).

Blame on a missed caller points at old code: the line that calls ``tax.vat_for`` did not change, the module
it calls did. So for AttributeError, ImportError and ``x is not a function`` the history is searched for the
name, and the newest commit that removed its definition (``domain.name_history`` decides) is the suspect.
"""

from __future__ import annotations

import re
from datetime import timedelta

from medic_contracts import IssueDetected, NameChange

from ..adapters.history import CommitInfo, History, read_commit, read_history
from ..adapters.name_search import commit_diff, commits_changing
from ..adapters.repo import Repository
from ..domain.code import CodeContext
from ..domain.diagnosis import SuspectSummary
from ..domain.name_history import decide_name_change, missing_name, parse_commit_diff

__all__ = ["name_change_commit", "summary_of", "suspect_commit"]

_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec|check)/|(?:^|/)test_[^/]*\.py$|_test\.py$|\.(?:test|spec)\.[jt]sx?$")


async def suspect_commit(
    repo: Repository, issue: IssueDetected, culprit: CodeContext, *, window: timedelta
) -> SuspectSummary | None:
    """The suspect commit: the one that removed or renamed the name the error says is missing, else the one that
    last changed the culprit statement (and the lines its values were bound on); None when neither is found."""
    renamed = await name_change_commit(repo, issue, culprit, window=window)
    if renamed is not None:
        return renamed
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
    if history.suspect is None:
        return None
    return summary_of(history, file=ctx.file, first=ctx.statement_first, last=ctx.statement_last)


def summary_of(history: History, *, file: str, first: int, last: int) -> SuspectSummary:
    """The suspect commit of ``history`` as the providers see it, its hunks read around ``first``..``last`` of ``file``."""
    commit = history.suspect
    assert commit is not None
    hunk_removed, hunk_added = commit.hunk_near(first, last)
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
        fault_file_added=any(status == "A" and path == file for status, path in commit.files),
        modifies_other_files=any(status != "A" and path != file and not _is_test_path(path) for status, path in commit.files),
        removed_lines=tuple(commit.removed_lines()),
        added_lines=tuple(commit.added_lines()),
        diff=commit.diff,
    )


async def name_change_commit(
    repo: Repository, issue: IssueDetected, culprit: CodeContext, *, window: timedelta
) -> SuspectSummary | None:
    """The newest commit that removed or renamed the definition of the missing name, as the suspect; or None."""
    exc = issue.exception
    missing = missing_name(exc.type, exc.value or "") if exc is not None else None
    if missing is None:
        return None
    # A Python module owner names the file the definition must leave; an import alias (TS) names nothing.
    files = missing.module_files if culprit.language == "python" else ()
    for sha in await commits_changing(repo, missing.name):
        verdict = decide_name_change(parse_commit_diff(await commit_diff(repo, sha)), missing.name, files=files)
        if not verdict.removed or verdict.file is None:
            continue
        commit = await read_commit(repo, sha, file=verdict.file)
        change = NameChange(name=missing.name, new_name=verdict.new_name, owner=missing.owner, file=verdict.file)
        return _renamed_summary(commit, change, clean=verdict.clean, issue=issue, window=window)
    return None


def _renamed_summary(
    commit: CommitInfo, change: NameChange, *, clean: bool, issue: IssueDetected, window: timedelta
) -> SuspectSummary:
    landed = issue.first_seen - window <= commit.date <= issue.first_seen + timedelta(minutes=5)
    return SuspectSummary(
        sha=commit.sha,
        author=commit.author,
        date=commit.date,
        subject=commit.subject,
        landed_before_first_seen=landed,
        touches_fault_lines=False,  # it changed the definition, not the caller
        removed_lines=tuple(commit.removed_lines()),
        added_lines=tuple(commit.added_lines()),
        diff=commit.diff,
        other_removed=commit.other_removed,
        modifies_other_files=True,
        name_change=change,
        name_change_clean=clean,
    )
