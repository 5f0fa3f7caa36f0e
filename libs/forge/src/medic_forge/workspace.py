"""A private clone of a remote where merges and reverts are made, then pushed.

The clone is Medic's own (under the forge's ``work_dir``), so it is reset to a clean state before
every operation: a crash half-way through a merge leaves nothing behind for the next caller.
Callers hold the remote's lock around each operation (:mod:`medic_forge.locking`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from .git import Git, check_branch_name, check_ref, check_sha
from .model import ForgeError, GitCommandError, MergeConflictError, PushRejectedError, RefNotFoundError

__all__ = ["REVERT_TRAILER", "Workspace", "checkout_ref", "clone_dir_for"]

REVERT_TRAILER = "Medic-Reverts"
_HEX = re.compile(r"[0-9a-f]{7,64}")


def clone_dir_for(work_dir: Path, remote_url: str) -> Path:
    """Where the private clone of ``remote_url`` lives under ``work_dir`` (stable per remote)."""
    digest = hashlib.sha256(remote_url.encode("utf-8")).hexdigest()[:16]
    return work_dir / "clones" / digest


def _rejected(error: GitCommandError) -> bool:
    text = error.stderr.lower()
    return "rejected" in text or "non-fast-forward" in text or "fetch first" in text or "stale info" in text


class Workspace:
    """Merges and reverts in a private clone of ``remote_url`` at ``path``."""

    def __init__(self, *, remote_url: str, path: Path, git: Git) -> None:
        self.remote_url = remote_url
        self.path = path
        self.git = git

    async def _git(self, *args: str, check: bool = True) -> str:
        result = await self.git.run(*args, cwd=self.path, check=check)
        return result.stdout.strip()

    async def prepare(self) -> None:
        """Clone (first use) or fetch, and clean up anything a crashed operation left."""
        if not (self.path / ".git").is_dir():
            if self.path.exists():
                shutil.rmtree(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            await self.git.run("clone", "--quiet", "--no-checkout", "--", self.remote_url, str(self.path))
        else:
            await self._git("remote", "set-url", "origin", self.remote_url)
            for abort in (("merge", "--abort"), ("revert", "--abort"), ("cherry-pick", "--abort")):
                await self._git(*abort, check=False)
        await self._git("fetch", "--quiet", "--prune", "--force", "origin", "+refs/heads/*:refs/remotes/origin/*")

    async def head_of(self, branch: str) -> str | None:
        """The fetched sha of ``origin/<branch>``, or None when the branch does not exist."""
        check_branch_name(branch)
        result = await self.git.run(
            "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}^{{commit}}", cwd=self.path, check=False
        )
        return result.stdout.strip() or None

    async def has_commit(self, sha: str) -> bool:
        """True when ``sha`` names a commit in the clone."""
        result = await self.git.run("cat-file", "-e", f"{check_sha(sha)}^{{commit}}", cwd=self.path, check=False)
        return result.ok

    async def full_sha(self, sha: str) -> str:
        """The full id of a (possibly abbreviated) commit sha, or raise :class:`RefNotFoundError`."""
        result = await self.git.run(
            "rev-parse", "--verify", "--quiet", f"{check_sha(sha)}^{{commit}}", cwd=self.path, check=False
        )
        if not result.ok or not result.stdout.strip():
            raise RefNotFoundError(f"commit {sha} does not exist on the remote")
        return result.stdout.strip()

    async def is_ancestor(self, older: str, newer: str) -> bool:
        """True when commit ``older`` is reachable from ``newer``."""
        result = await self.git.run("merge-base", "--is-ancestor", older, newer, cwd=self.path, check=False)
        return result.ok

    async def merge_commit_of(self, head_sha: str, branch_sha: str) -> str | None:
        """The merge commit on ``branch_sha``'s history whose second parent is ``head_sha``, if any."""
        log = await self._git("rev-list", "--merges", "--parents", "-n", "500", branch_sha)
        for line in log.splitlines():
            shas = line.split()
            if len(shas) >= 3 and head_sha in shas[2:]:
                return shas[0]
        return None

    async def _checkout(self, sha: str) -> None:
        await self._git("checkout", "--quiet", "--force", "--detach", sha)
        await self._git("clean", "-ffdxq")

    async def _conflicts(self) -> list[str]:
        listing = await self._git("diff", "--name-only", "--diff-filter=U", check=False)
        return [line for line in listing.splitlines() if line]

    async def _push(self, sha: str, branch: str, expected: str) -> None:
        try:
            await self._git(
                "push",
                "--quiet",
                "--porcelain",
                f"--force-with-lease=refs/heads/{branch}:{expected}",
                "origin",
                f"{sha}:refs/heads/{branch}",
            )
        except GitCommandError as exc:
            if _rejected(exc):
                raise PushRejectedError(f"push to {branch} rejected: the branch moved on the remote") from exc
            raise

    async def merge(self, *, source_sha: str, target: str, message: str) -> str:
        """Merge commit ``source_sha`` into branch ``target`` with ``--no-ff`` and push; return the merge sha."""
        target_sha = await self.head_of(target)
        if target_sha is None:
            raise RefNotFoundError(f"branch {target} does not exist on the remote")
        await self._checkout(target_sha)
        result = await self.git.run("merge", "--no-ff", "--no-edit", "-m", message, source_sha, cwd=self.path, check=False)
        if not result.ok:
            files = await self._conflicts()
            await self._git("merge", "--abort", check=False)
            if files:
                raise MergeConflictError(f"merging {source_sha[:12]} into {target} conflicts in {', '.join(files)}", files=files)
            raise GitCommandError(
                f"merge into {target} failed: {result.stderr.strip()}", returncode=result.returncode, stderr=result.stderr
            )
        merged = await self._git("rev-parse", "HEAD")
        await self._push(merged, target, target_sha)
        return merged

    async def find_revert(self, *, branch_sha: str, sha: str) -> str | None:
        """A commit after ``sha`` on ``branch_sha``'s history that already reverts it (by its trailer)."""
        log = await self._git("log", "--format=%H%x1f%B%x1e", f"{sha}..{branch_sha}")
        for record in log.split("\x1e"):
            commit, _, body = record.strip().partition("\x1f")
            if f"{REVERT_TRAILER}: {sha}" in body or f"This reverts commit {sha}." in body:
                return commit
        return None

    async def revert_under(
        self, lock: Callable[[], AbstractAsyncContextManager[Any]], *, branch: str, sha: str, message: str
    ) -> str:
        """A forge's ``revert_commit``: check the names, then under ``lock()`` refresh the clone and :meth:`revert`."""
        check_branch_name(branch)
        check_sha(sha)
        async with lock():
            await self.prepare()
            return await self.revert(branch=branch, sha=sha, message=message)

    async def revert(self, *, branch: str, sha: str, message: str) -> str:
        """Revert ``sha`` on ``branch`` (merge commits against their first parent) and push; return the revert sha."""
        branch_sha = await self.head_of(branch)
        if branch_sha is None:
            raise RefNotFoundError(f"branch {branch} does not exist on the remote")
        full = await self.full_sha(sha)
        if not await self.is_ancestor(full, branch_sha):
            raise ForgeError(f"commit {full[:12]} is not on branch {branch}")
        existing = await self.find_revert(branch_sha=branch_sha, sha=full)
        if existing is not None:
            return existing
        await self._checkout(branch_sha)
        parents = (await self._git("rev-list", "--parents", "-n", "1", full)).split()[1:]
        args = ["revert", "--no-commit"]
        if len(parents) > 1:
            args += ["-m", "1"]
        result = await self.git.run(*args, full, cwd=self.path, check=False)
        if not result.ok:
            files = await self._conflicts()
            await self._git("revert", "--abort", check=False)
            await self._checkout(branch_sha)
            if files:
                raise MergeConflictError(f"reverting {full[:12]} on {branch} conflicts in {', '.join(files)}", files=files)
            raise GitCommandError(
                f"revert on {branch} failed: {result.stderr.strip()}", returncode=result.returncode, stderr=result.stderr
            )
        staged = await self.git.run("diff", "--cached", "--quiet", cwd=self.path, check=False)
        if staged.ok:
            await self._checkout(branch_sha)
            raise ForgeError(f"reverting {full[:12]} changes nothing on {branch} (already undone)")
        text = f"{message.rstrip()}\n\nThis reverts commit {full}.\n\n{REVERT_TRAILER}: {full}\n"
        await self._git("commit", "--quiet", "--no-verify", "-m", text)
        reverted = await self._git("rev-parse", "HEAD")
        await self._push(reverted, branch, branch_sha)
        return reverted


def _missing_or_empty(path: Path) -> bool:
    return not path.exists() or not any(path.iterdir())


async def checkout_ref(*, git: Git, remote_url: str, ref: str, into: Path) -> Path:
    """A clean detached checkout of ``ref`` (branch, tag or sha) from ``remote_url`` in ``into``.

    A checkout a crash left half-made is made again, once: a clone killed before it wrote a single
    ref, or a checkout of this remote whose git commands fail (a kill -9 leaves ``index.lock``
    behind). Everything in it is on the remote, and it is cleaned of anything else anyway. A
    directory holding another remote's checkout or other files is still refused.
    """
    try:
        return await _checkout_ref(git=git, remote_url=remote_url, ref=ref, into=into)
    except _HalfMade:
        pass
    except GitCommandError:
        if not (into / ".git").is_dir():
            raise
    shutil.rmtree(into)
    return await _checkout_ref(git=git, remote_url=remote_url, ref=ref, into=into)


class _HalfMade(ForgeError):
    """A clone that never got as far as its first ref (killed mid-clone): nothing in it to keep."""


async def _checkout_ref(*, git: Git, remote_url: str, ref: str, into: Path) -> Path:
    checked = check_ref(ref)
    if (into / ".git").is_dir():
        url = (await git.run("remote", "get-url", "origin", cwd=into, check=False)).stdout.strip()
        if url != remote_url:
            refs = (await git.run("for-each-ref", "--count=1", cwd=into, check=False)).stdout.strip()
            if not url and not refs:
                raise _HalfMade(f"{into} is a clone that never finished")
            raise ForgeError(f"{into} is a checkout of another remote; refusing to reuse it")
    else:
        if not _missing_or_empty(into):
            raise ForgeError(f"{into} exists and is not a checkout; refusing to overwrite it")
        into.parent.mkdir(parents=True, exist_ok=True)
        await git.run("clone", "--quiet", "--no-checkout", "--", remote_url, str(into))
    await git.run("fetch", "--quiet", "--prune", "--force", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=into)
    # a hex ref is tried as a commit first; names only as remote branches and tags (never the clone's
    # own local branches, which stay where they were when the checkout was first cloned)
    candidates = [f"{checked}^{{commit}}"] if _HEX.fullmatch(checked) else []
    candidates += [f"refs/remotes/origin/{checked}^{{commit}}", f"refs/tags/{checked}^{{commit}}"]
    sha = ""
    for candidate in candidates:
        result = await git.run("rev-parse", "--verify", "--quiet", candidate, cwd=into, check=False)
        if result.ok and result.stdout.strip():
            sha = result.stdout.strip()
            break
    if not sha:
        raise RefNotFoundError(f"ref {ref} does not exist on the remote")
    await git.run("checkout", "--quiet", "--force", "--detach", sha, cwd=into)
    await git.run("clean", "-ffdxq", cwd=into)
    return into
