"""The forge the releaser merges, reverts and fetches through (the shared ``medic_forge`` interface).

``medic_forge`` (LocalForge on a bare repository, GitHubForge on PyGithub) is being written in
parallel; until it is on ``main`` this module carries the same :class:`Forge` protocol and a small
git-only implementation, :class:`GitRemoteForge`, so the releaser runs against a real bare
repository. :func:`build_forge` prefers ``medic_forge`` whenever it is importable.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config import ForgeSection
from ..domain.errors import ForgeError

__all__ = ["Forge", "GitRemoteForge", "PullRequest", "build_forge", "git", "git_ok"]


@dataclass(frozen=True)
class PullRequest:
    """A pull request as the forge reports it."""

    number: int
    url: str
    head: str
    base: str
    head_sha: str
    state: str  # open | merged | closed
    merge_sha: str | None
    title: str


class Forge(Protocol):
    """What forge users code against (see the house brief)."""

    name: str

    async def push_branch(self, *, clone: Path, branch: str) -> str: ...
    async def find_pull_request(self, *, head: str, base: str) -> PullRequest | None: ...
    async def open_pull_request(
        self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> PullRequest: ...
    async def merge_pull_request(self, *, number: int, message: str) -> str: ...
    async def merge_branch(self, *, source: str, target: str, message: str) -> str: ...
    async def revert_commit(self, *, branch: str, sha: str, message: str) -> str: ...
    async def branch_head(self, *, branch: str) -> str | None: ...
    async def fetch_ref(self, *, ref: str, into: Path) -> Path: ...


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Medic Releaser",
    "GIT_AUTHOR_EMAIL": "releaser@medic.local",
    "GIT_COMMITTER_NAME": "Medic Releaser",
    "GIT_COMMITTER_EMAIL": "releaser@medic.local",
    "GIT_TERMINAL_PROMPT": "0",
}


async def git(*args: str, cwd: Path | None = None, timeout: float = 120.0, check: bool = True) -> str:
    """Run git with an argv list (never a shell) and a timeout; return stdout."""
    proc = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=str(cwd) if cwd else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **_GIT_ENV},
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ForgeError(f"git {args[0]} timed out after {timeout:.0f}s") from None
    if check and proc.returncode != 0:
        raise ForgeError(f"git {' '.join(args[:2])} failed: {err.decode(errors='replace').strip()[:500]}")
    return out.decode(errors="replace").strip()


async def git_ok(*args: str, cwd: Path | None = None) -> bool:
    """True when a git command exits 0 (for yes/no questions such as merge-base --is-ancestor)."""
    try:
        await git(*args, cwd=cwd)
    except ForgeError:
        return False
    return True


class GitRemoteForge:
    """A forge over a local bare repository: branches and merges with git, pull requests in a JSON file.

    Stand-in for ``medic_forge.LocalForge`` until it lands; every operation is real git against the
    bare repository, done in a throwaway clone, so concurrent callers never share a working tree.
    """

    name = "local"

    def __init__(self, remote: Path) -> None:
        self.remote = remote
        self._lock = asyncio.Lock()

    @property
    def _pulls_file(self) -> Path:
        return self.remote / "medic-pulls.json"

    def _pulls(self) -> list[dict[str, Any]]:
        if not self._pulls_file.exists():
            return []
        data: list[dict[str, Any]] = json.loads(self._pulls_file.read_text())
        return data

    def _write_pulls(self, pulls: list[dict[str, Any]]) -> None:
        self._pulls_file.write_text(json.dumps(pulls, indent=1))

    @staticmethod
    def _pr(data: dict[str, Any]) -> PullRequest:
        return PullRequest(**data)

    async def _clone(self, branch: str) -> Path:
        work = Path(tempfile.mkdtemp(prefix="medic-forge-"))
        await git("clone", "--quiet", "--branch", branch, str(self.remote), str(work))
        return work

    async def push_branch(self, *, clone: Path, branch: str) -> str:
        """Push ``branch`` of ``clone`` to the remote; return its head sha."""
        await git("push", "--quiet", "--force-with-lease", str(self.remote), f"{branch}:{branch}", cwd=clone)
        return await git("rev-parse", branch, cwd=clone)

    async def find_pull_request(self, *, head: str, base: str) -> PullRequest | None:
        """The newest pull request from ``head`` into ``base``."""
        for data in reversed(self._pulls()):
            if data["head"] == head and data["base"] == base:
                return self._pr(data)
        return None

    async def open_pull_request(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()) -> PullRequest:
        """Find or create the pull request from ``head`` into ``base``."""
        async with self._lock:
            existing = await self.find_pull_request(head=head, base=base)
            if existing is not None and existing.state == "open":
                return existing
            sha = await self.branch_head(branch=head)
            if sha is None:
                raise ForgeError(f"no branch {head!r} on the remote")
            pulls = self._pulls()
            number = len(pulls) + 1
            data = {
                "number": number,
                "url": f"file://{self.remote}#pull/{number}",
                "head": head,
                "base": base,
                "head_sha": sha,
                "state": "open",
                "merge_sha": None,
                "title": title,
            }
            pulls.append(data)
            self._write_pulls(pulls)
            return self._pr(data)

    async def merge_pull_request(self, *, number: int, message: str) -> str:
        """Merge an open pull request (no fast-forward); an already merged one returns its merge sha."""
        async with self._lock:
            pulls = self._pulls()
            data = next((p for p in pulls if p["number"] == number), None)
            if data is None:
                raise ForgeError(f"no pull request #{number}")
            if data["state"] == "merged":
                return str(data["merge_sha"])
            if data["state"] != "open":
                raise ForgeError(f"pull request #{number} is {data['state']}")
            sha = await self._merge(source=data["head"], target=data["base"], message=message)
            data.update(state="merged", merge_sha=sha)
            self._write_pulls(pulls)
            return sha

    async def merge_branch(self, *, source: str, target: str, message: str) -> str:
        """Merge ``source`` into ``target`` (no fast-forward) and push; return the new head of ``target``."""
        async with self._lock:
            return await self._merge(source=source, target=target, message=message)

    async def _merge(self, *, source: str, target: str, message: str) -> str:
        work = await self._clone(target)
        try:
            await git("fetch", "--quiet", "origin", f"{source}:refs/remotes/origin/{source}", cwd=work)
            if await git_ok("merge-base", "--is-ancestor", f"origin/{source}", "HEAD", cwd=work):
                return await git("rev-parse", "HEAD", cwd=work)  # nothing to merge: already contained
            try:
                await git("merge", "--no-ff", "--quiet", "-m", message, f"origin/{source}", cwd=work)
            except ForgeError as exc:
                raise ForgeError(f"merging {source} into {target} conflicts: {exc}") from exc
            await git("push", "--quiet", "origin", f"HEAD:{target}", cwd=work)
            return await git("rev-parse", "HEAD", cwd=work)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    async def revert_commit(self, *, branch: str, sha: str, message: str) -> str:
        """Revert ``sha`` (a merge commit reverts to its first parent) on ``branch`` and push."""
        async with self._lock:
            work = await self._clone(branch)
            try:
                parents = (await git("rev-list", "--parents", "-n", "1", sha, cwd=work)).split()[1:]
                args = ["revert", "--no-edit"] + (["-m", "1"] if len(parents) > 1 else []) + [sha]
                await git(*args, cwd=work)
                await git("commit", "--amend", "--quiet", "-m", message, cwd=work)
                await git("push", "--quiet", "origin", f"HEAD:{branch}", cwd=work)
                return await git("rev-parse", "HEAD", cwd=work)
            finally:
                shutil.rmtree(work, ignore_errors=True)

    async def branch_head(self, *, branch: str) -> str | None:
        """The sha at the tip of ``branch`` on the remote, or None when it does not exist."""
        out = await git("ls-remote", "--heads", str(self.remote), f"refs/heads/{branch}")
        return out.split()[0] if out else None

    async def fetch_ref(self, *, ref: str, into: Path) -> Path:
        """A fresh checkout of ``ref`` (branch or sha) at ``into``."""
        await asyncio.to_thread(shutil.rmtree, into, True)
        await asyncio.to_thread(into.parent.mkdir, parents=True, exist_ok=True)
        await git("clone", "--quiet", "--no-checkout", str(self.remote), str(into))
        await git("checkout", "--quiet", "--detach", ref if len(ref) >= 7 and _is_hex(ref) else f"origin/{ref}", cwd=into)
        return into


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text.lower())


class _ForgeErrors:
    """Wraps a ``medic_forge`` forge so its errors reach the rollout as :class:`ForgeError` (a failed step, not a crash)."""

    def __init__(self, inner: Any, errors: tuple[type[BaseException], ...]) -> None:
        self._inner = inner
        self._errors = errors
        self.name = str(getattr(inner, "name", "forge"))

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._inner, attr)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await target(*args, **kwargs)
            except self._errors as exc:
                raise ForgeError(str(exc)) from exc

        return call


def build_forge(section: ForgeSection, *, base_dir: Path, raw: dict[str, Any] | None = None, work_dir: Path | None = None,
                repo: Path | None = None) -> Forge:  # fmt: skip
    """The forge a target's ``[forge]`` section names: ``medic_forge`` when installed, else the git stand-in."""
    try:
        import medic_forge  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        medic_forge = None
    if medic_forge is not None:  # pragma: no cover - runs once libs/forge is merged into the workspace
        inner = medic_forge.build_forge(
            raw if raw is not None else section.model_dump(exclude_none=True), base_dir=base_dir, work_dir=work_dir, repo=repo
        )
        built: Forge = _ForgeErrors(inner, (medic_forge.ForgeError,))
        return built
    remote = Path(section.remote or "")
    if section.kind == "local":
        return GitRemoteForge(remote if remote.is_absolute() else (base_dir / remote).resolve())
    raise ForgeError("the github forge needs medic_forge (libs/forge), which is not installed yet")
