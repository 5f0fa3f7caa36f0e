"""The history search for a name: ``git log -S`` (the commits that changed how often it occurs) and their diffs.

The name comes from error text, so it must already be a plain identifier (checked again here): it reaches
git as one argv element after ``-S`` (a literal string, not a pattern: no ``--pickaxe-regex``), through the
confined repository's hardened git (no hooks, no external diff or textconv drivers, literal pathspecs).
"""

from __future__ import annotations

from ..domain.errors import RepositoryUnavailable
from ..domain.name_history import is_identifier
from .repo import Repository

__all__ = ["commit_diff", "commits_changing"]

_MAX_DIFF = 200_000


async def commits_changing(repo: Repository, name: str, *, limit: int = 20) -> tuple[str, ...]:
    """Shas of the commits (newest first, up to ``limit``) that added or removed occurrences of ``name``."""
    if not is_identifier(name):
        return ()
    rev = repo.commit or "HEAD"
    try:
        result = await repo.git("log", "--format=%H", f"-n{max(1, min(limit, 100))}", "-S", name, rev, "--", check=False)
    except RepositoryUnavailable:
        return ()
    if result.returncode != 0:
        return ()
    return tuple(line for line in result.stdout.split() if len(line) == 40)


async def commit_diff(repo: Repository, sha: str) -> str:
    """The commit's diff against its first parent, three lines of context, no renames (both sides as files)."""
    if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha):
        return ""
    try:
        result = await repo.git(
            "show", "--format=", "--unified=3", "--no-color", "--no-renames", "--first-parent", sha, "--", check=False
        )
    except RepositoryUnavailable:
        return ""
    return result.stdout[:_MAX_DIFF] if result.returncode == 0 else ""
