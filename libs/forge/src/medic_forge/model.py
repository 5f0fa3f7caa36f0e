"""The forge interface every forge user codes against, its value objects and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "CommitStatus",
    "Forge",
    "ForgeError",
    "ForgeLockTimeoutError",
    "GitCommandError",
    "GitTimeoutError",
    "MergeConflictError",
    "PullRequest",
    "PullRequestClosedError",
    "PullRequestNotFoundError",
    "PushRejectedError",
    "RefNotFoundError",
    "StatusState",
    "UnsafeRefError",
]

StatusState = Literal["error", "failure", "pending", "success"]


@dataclass(frozen=True)
class PullRequest:
    """A pull request as every forge reports it. ``state`` is ``open``, ``merged`` or ``closed``."""

    number: int
    url: str
    head: str
    base: str
    head_sha: str
    state: str
    merge_sha: str | None
    title: str
    labels: tuple[str, ...] = ()
    body: str = ""

    @property
    def is_open(self) -> bool:
        """True while the pull request can still be merged."""
        return self.state == "open"

    @property
    def is_merged(self) -> bool:
        """True once the pull request was merged (``merge_sha`` is then set)."""
        return self.state == "merged"


@dataclass(frozen=True)
class CommitStatus:
    """A commit status (CI-style check) attached to a commit."""

    sha: str
    state: StatusState
    context: str
    description: str = ""
    target_url: str | None = None


class ForgeError(RuntimeError):
    """A forge operation failed; the message says which and why (never contains a token)."""


class UnsafeRefError(ForgeError, ValueError):
    """A branch, ref or sha argument is not a safe git ref (refused before running git)."""


class RefNotFoundError(ForgeError):
    """A branch, ref or commit does not exist on the remote."""


class PullRequestNotFoundError(ForgeError):
    """No pull request with that number."""


class PullRequestClosedError(ForgeError):
    """The pull request was closed without being merged; it cannot be merged."""


class MergeConflictError(ForgeError):
    """A merge or revert did not apply cleanly; nothing was pushed. ``files`` lists the conflicts."""

    def __init__(self, message: str, *, files: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.files = tuple(files)


class PushRejectedError(ForgeError):
    """The remote refused a push (the branch moved and the push is not a fast-forward)."""


class ForgeLockTimeoutError(ForgeError):
    """Another process held the remote's lock for longer than the configured wait."""


class GitCommandError(ForgeError):
    """A git command exited non-zero; ``stderr`` is kept (with credentials removed)."""

    def __init__(self, message: str, *, returncode: int | None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class GitTimeoutError(GitCommandError):
    """A git command ran longer than its timeout and was killed."""


@runtime_checkable
class Forge(Protocol):
    """Where fixes are proposed and merged: a local bare repository, GitHub, ...

    Every method is idempotent where the operation allows: pushing the same commit again, opening
    a pull request that exists, merging a merged pull request, reverting an already reverted
    commit all return the earlier result instead of acting twice.
    """

    name: str

    async def push_branch(self, *, clone: Path, branch: str) -> str:
        """Push ``branch`` of the local ``clone`` to the remote; return the pushed head sha."""
        ...

    async def find_pull_request(self, *, head: str, base: str) -> PullRequest | None:
        """The open pull request from ``head`` into ``base``, else the latest closed/merged one, else None."""
        ...

    async def open_pull_request(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()) -> PullRequest:
        """Find or create the pull request from ``head`` into ``base`` (labels are added either way)."""
        ...

    async def merge_pull_request(self, *, number: int, message: str) -> str:
        """Merge a pull request with a merge commit; return the merge commit sha."""
        ...

    async def merge_branch(self, *, source: str, target: str, message: str) -> str:
        """Merge branch ``source`` into ``target`` (e.g. staging → main); return ``target``'s new head."""
        ...

    async def revert_commit(self, *, branch: str, sha: str, message: str) -> str:
        """Revert commit ``sha`` (a merge commit: against its first parent) on ``branch``; return the new head."""
        ...

    async def branch_head(self, *, branch: str) -> str | None:
        """The sha ``branch`` points at on the remote, or None when it does not exist."""
        ...

    async def fetch_ref(self, *, ref: str, into: Path) -> Path:
        """A checkout of ``ref`` (branch, tag or sha) in directory ``into`` (created or updated)."""
        ...
