"""Step 4b, the origin: when the bad value came from a callee in another file, did that callee change recently?

The callees step found the functions the fault's values come from that can return nothing, with the line that
does (``file:line: text``). Blaming that line names the commit that made it; when that commit landed shortly
before the issue was first seen, the callee's contract changed under its caller: the fix belongs there.
"""

from __future__ import annotations

import re
from datetime import timedelta

from medic_contracts import IssueDetected

from ..adapters.history import read_history
from ..adapters.repo import Repository
from ..domain.callees import code_context
from ..domain.code import CodeContext
from ..domain.diagnosis import OriginSummary
from ..domain.errors import PathOutsideRepository, RepositoryUnavailable
from .history import summary_of

__all__ = ["value_origin"]

_WHERE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): (?P<text>.*)$", re.DOTALL)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


async def value_origin(
    repo: Repository, issue: IssueDetected, culprit: CodeContext, callees: dict[str, str], *, window: timedelta
) -> OriginSummary | None:
    """The recently changed callee (in another file) the fault's value came from, or None."""
    found: list[OriginSummary] = []
    for name, where in callees.items():
        match = _WHERE.match(where)
        if match is None or match.group("file") == culprit.file:
            continue
        file, line = match.group("file"), int(match.group("line"))
        try:
            history = await read_history(repo, file=file, first=line, last=line, first_seen=issue.first_seen, window=window)
        except (PathOutsideRepository, RepositoryUnavailable):
            continue
        commit = history.suspect
        if commit is None or not history.landed_before_first_seen or not history.suspect_touches_lines:
            continue
        first, last = _hunk_around(commit.diff, line)
        try:  # only the callee's own lines of that hunk (a hunk can run on into the next function)
            callee = code_context(repo.read_text(file), file=file, line=line).function
        except (OSError, ValueError):
            callee = None
        if callee is not None:
            first = max(first, callee.first)
            last = max(min(last, callee.last), first)
        found.append(
            OriginSummary(
                callee=name,
                file=file,
                first=first,
                last=last,
                line=line,
                text=match.group("text"),
                commit=summary_of(history, file=file, first=first, last=last),
            )
        )
    # The newest change wins: it is the one the issue followed.
    return max(found, key=lambda o: o.commit.date, default=None)


def _hunk_around(diff: str, line: int) -> tuple[int, int]:
    """The new-file lines of the hunk holding ``line`` (else just the line)."""
    for match in _HUNK.finditer(diff):
        start, count = int(match.group(1)), int(match.group(2) or 1)
        if start <= line <= start + max(count, 1) - 1:
            return start, start + max(count, 1) - 1
    return line, line
