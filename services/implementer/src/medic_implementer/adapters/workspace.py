"""Per-issue git worktrees: isolated, on the fix branch, removed afterwards.

Each fix attempt gets its own directory under the workspace root (issue id, attempt and a random
suffix in the name), so two issues — or two attempts of one — never share a checkout. The branch
``agent/fix-<issue-id>`` is (re)started at the deployed commit. Removing the worktree keeps the
branch: its commits are how a redelivered event finds the fix it already made.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import WorkspaceError
from .git import Git, GitError

__all__ = ["Workspace", "fix_branch", "open_workspace", "release_branch", "resolve_base"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# One lock per repository: worktree bookkeeping in .git/worktrees is not safe under concurrent writers.
_REPO_LOCKS: dict[Path, asyncio.Lock] = {}


def fix_branch(issue_id: str) -> str:
    """The fix branch of an issue: ``agent/fix-<issue-id>`` (unsafe characters replaced)."""
    return f"agent/fix-{_SAFE.sub('-', issue_id).strip('-.') or 'issue'}"


def _lock(repo: Path) -> asyncio.Lock:
    return _REPO_LOCKS.setdefault(repo.resolve(), asyncio.Lock())


@dataclass(frozen=True, slots=True)
class Workspace:
    """One isolated checkout of the target repository for one fix attempt."""

    path: Path
    branch: str
    base_sha: str
    git: Git

    async def reset(self) -> None:
        """Back to the base commit: tracked files restored, untracked ones removed."""
        await self.git.run("reset", "--quiet", "--hard", self.base_sha)
        await self.git.run("clean", "-fdq")

    async def source_files(self, suffixes: tuple[str, ...], limit: int = 400) -> dict[str, str]:
        """Up to ``limit`` tracked regular files ending in ``suffixes`` (under 200 kB each), by path."""
        names = (await self.git.run("ls-files", "-z")).stdout.split("\0")
        files: dict[str, str] = {}
        for name in names:
            if name.endswith(suffixes) and len(files) < limit:
                path = self.path / name
                if path.is_file() and not path.is_symlink() and path.stat().st_size < 200_000:
                    files[name] = path.read_text(errors="replace")
        return files

    async def tracked_files(self) -> list[str]:
        """Every tracked path."""
        return (await self.git.run("ls-files", "-z")).stdout.split("\0")

    async def stage(self, files: Sequence[str]) -> str:
        """Stage ``files`` and return the staged diff against the base commit."""
        for path in files:
            # -A stages deletions too; a path a revert already removed from the index matches nothing, which is fine.
            await self.git.run("add", "-A", "--", path, check=False)
        return (await self.git.run("diff", "--cached", "--no-color", "--no-ext-diff", "--binary", self.base_sha)).stdout

    async def apply(self, diff: str) -> None:
        """Apply ``diff`` to the worktree and the index; :class:`WorkspaceError` when it no longer applies."""
        applied = await self.git.run("apply", "--index", "--whitespace=nowarn", "-", input_text=diff, check=False)
        if applied.returncode != 0:
            raise WorkspaceError(f"the fix diff no longer applies: {applied.stderr.strip()[:300]}")


async def resolve_base(git: Git, *, commit_sha: str | None, default_branch: str) -> str:
    """The deployed commit when known and present, else the default branch head (remote first)."""
    if commit_sha:
        sha = await git.rev_parse(commit_sha)
        if sha is None:
            await git.run("fetch", "--quiet", "origin", check=False)
            sha = await git.rev_parse(commit_sha)
        if sha is not None:
            return sha
    for ref in (f"origin/{default_branch}", default_branch, "HEAD"):
        sha = await git.rev_parse(ref)
        if sha is not None:
            return sha
    raise WorkspaceError(f"cannot resolve a base commit (deployed {commit_sha!r}, branch {default_branch!r})")


async def _remove_stale(git: Git, *, root: Path, branch: str) -> None:
    """Remove worktrees of ``branch`` a crashed process left under ``root`` (they would block ``worktree add``)."""
    listing = (await git.run("worktree", "list", "--porcelain")).stdout
    real_root = await asyncio.to_thread(os.path.realpath, root)
    for block in listing.strip().split("\n\n"):
        fields = dict(line.split(" ", 1) for line in block.splitlines() if " " in line)
        path = Path(fields.get("worktree", ""))
        ours = str(path).startswith((f"{root}/", f"{real_root}/"))  # only worktrees Medic made
        if fields.get("branch") == f"refs/heads/{branch}" and ours:
            await git.run("worktree", "remove", "--force", str(path), check=False)
            shutil.rmtree(path, ignore_errors=True)
    await git.run("worktree", "prune", check=False)


async def release_branch(*, repo: Path, root: Path, branch: str) -> None:
    """Free ``branch`` for branch operations: remove the worktrees under ``root`` that a crash left on it.

    A process killed after its commit, before its worktree was removed, leaves the fix branch
    checked out there, and git refuses to move a branch another worktree has checked out.
    """
    async with _lock(repo):
        await _remove_stale(Git(repo), root=root, branch=branch)


@asynccontextmanager
async def open_workspace(*, repo: Path, root: Path, issue_id: str, base_sha: str, attempt: int = 1) -> AsyncIterator[Workspace]:
    """A fresh worktree of ``repo`` on the issue's fix branch at ``base_sha``; removed on exit."""
    git = Git(repo)
    branch = fix_branch(issue_id)
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    path = root / f"{_SAFE.sub('-', issue_id)[:60]}-{attempt}-{uuid.uuid4().hex[:8]}"
    async with _lock(repo):
        try:
            await git.run("worktree", "prune")
            await _remove_stale(git, root=root, branch=branch)
            # -B: a rework restarts the branch at the deployed commit; --no-track keeps it local.
            await git.run("worktree", "add", "--quiet", "--no-track", "-B", branch, str(path), base_sha)
        except GitError as exc:
            raise WorkspaceError(f"cannot create worktree for {issue_id}: {exc}") from exc
    try:
        yield Workspace(path=path, branch=branch, base_sha=base_sha, git=git.at(path))
    finally:
        async with _lock(repo):
            await git.run("worktree", "remove", "--force", str(path), check=False)
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
            await git.run("worktree", "prune", check=False)
