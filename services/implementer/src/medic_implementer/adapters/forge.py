"""The forge: push the fix branch and open (or find) its pull request.

The implementer codes against the :class:`Forge` protocol shared by every forge user (the house
interface of ``medic_forge``). :func:`build_forge` turns a target's ``[forge]`` section into one:
``medic_forge``'s implementations when that library is installed, else the implementer's own
:class:`LocalForge` — a plain bare repository as the remote, pull requests recorded beside it —
which is enough for the demo and for teams without a hosted forge.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from medic_contracts import section

from .git import Git, GitError

__all__ = ["FORGE_ERRORS", "Forge", "ForgeError", "ForgeSection", "LocalForge", "PullRequest", "build_forge", "push"]


class ForgeError(RuntimeError):
    """The forge refused or failed an operation (push rejected, API error)."""


@dataclass(frozen=True)
class PullRequest:
    """A pull request as every forge reports it."""

    number: int
    url: str
    head: str
    base: str
    head_sha: str
    state: str  # open | merged | closed
    merge_sha: str | None
    title: str


@runtime_checkable
class Forge(Protocol):
    """What the implementer needs from a forge (a subset of the shared interface)."""

    name: str

    async def push_branch(self, *, clone: Path, branch: str) -> str: ...

    async def find_pull_request(self, *, head: str, base: str) -> Any | None: ...

    async def open_pull_request(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()) -> Any: ...

    async def branch_head(self, *, branch: str) -> str | None: ...


class ForgeSection(BaseModel):
    """The ``[forge]`` section of medic.toml."""

    model_config = ConfigDict(frozen=True, extra="allow")

    kind: Literal["local", "github"] = Field(default="local", description="local: a bare repository; github: GitHub REST.")
    remote: str | None = Field(default=None, description="local: path of the bare repository (default: the clone's origin).")
    repo: str | None = Field(default=None, description="github: owner/name.")
    api_url: str = Field(default="https://api.github.com", description="github: REST API base URL.")
    token_env: str = Field(default="GITHUB_TOKEN", description="github: environment variable holding the token.")


class LocalForge:
    """A bare repository as the forge: branches are pushed to it, pull requests are JSON records beside the refs."""

    name = "local"

    def __init__(self, remote: Path) -> None:
        self.remote = Path(remote)
        self._store = self.remote / "medic-pull-requests.json"
        self._lock = asyncio.Lock()

    def _load(self) -> list[dict[str, Any]]:
        if not self._store.exists():
            return []
        data = json.loads(self._store.read_text())
        return list(data) if isinstance(data, list) else []

    def _save(self, prs: list[dict[str, Any]]) -> None:
        tmp = self._store.with_suffix(".tmp")
        tmp.write_text(json.dumps(prs, indent=2))
        tmp.replace(self._store)

    async def push_branch(self, *, clone: Path, branch: str, force: bool = False) -> str:
        """Push ``branch`` from ``clone`` to the bare repository (``force`` replaces a rewritten branch)."""
        git = Git(clone)
        spec = f"{'+' if force else ''}refs/heads/{branch}:refs/heads/{branch}"
        try:
            await git.run("push", "--quiet", str(self.remote), spec)
        except GitError as exc:
            raise ForgeError(f"push of {branch} failed: {exc}") from exc
        return await git.out("rev-parse", f"refs/heads/{branch}")

    async def branch_head(self, *, branch: str) -> str | None:
        """The sha of ``branch`` on the remote, or None."""
        result = await Git(self.remote).run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
        return result.stdout.strip() or None

    async def find_pull_request(self, *, head: str, base: str) -> PullRequest | None:
        """The open pull request from ``head`` into ``base``, if any."""
        async with self._lock:
            for pr in self._load():
                if pr["head"] == head and pr["base"] == base and pr["state"] == "open":
                    return PullRequest(**pr)
        return None

    async def open_pull_request(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()) -> PullRequest:
        """Find or create the pull request from ``head`` into ``base``."""
        head_sha = await self.branch_head(branch=head)
        if head_sha is None:
            raise ForgeError(f"branch {head} is not on the remote")
        async with self._lock:
            prs = self._load()
            for pr in prs:
                if pr["head"] == head and pr["base"] == base and pr["state"] == "open":
                    pr["head_sha"] = head_sha
                    self._save(prs)
                    return PullRequest(**{k: pr[k] for k in PullRequest.__dataclass_fields__})
            number = max((int(p["number"]) for p in prs), default=0) + 1
            created = PullRequest(
                number=number,
                url=f"file://{self.remote}#pull/{number}",
                head=head,
                base=base,
                head_sha=head_sha,
                state="open",
                merge_sha=None,
                title=title,
            )
            prs.append({**asdict(created), "body": body, "labels": list(labels), "created_at": time.time()})
            self._save(prs)
            return created

    def pull_requests(self) -> list[dict[str, Any]]:
        """Every recorded pull request (for tests and the demo)."""
        return self._load()


def _shared() -> Any | None:
    try:
        return importlib.import_module("medic_forge")
    except ImportError:
        return None


def _errors() -> tuple[type[Exception], ...]:
    shared = _shared()
    extra = getattr(shared, "ForgeError", None) if shared is not None else None
    return (ForgeError, extra) if isinstance(extra, type) and issubclass(extra, Exception) else (ForgeError,)


#: Exceptions any forge in use raises for a failed operation.
FORGE_ERRORS: tuple[type[Exception], ...] = _errors()


async def push(forge: Forge, *, clone: Path, branch: str) -> str:
    """Push the fix branch, forced where the forge allows it (a rework restarts the branch at the deployed commit)."""
    if "force" in inspect.signature(forge.push_branch).parameters:
        return await forge.push_branch(clone=clone, branch=branch, force=True)  # type: ignore[call-arg]
    return await forge.push_branch(clone=clone, branch=branch)


def build_forge(data: dict[str, Any], *, base_dir: Path, work_dir: Path, repo: Path) -> Forge:
    """The forge a target's ``[forge]`` section names: ``medic_forge``'s when installed, else :class:`LocalForge`."""
    shared = _shared()
    if shared is not None and hasattr(shared, "build_forge"):
        built: Forge = shared.build_forge(data, base_dir=base_dir, work_dir=work_dir)
        return built
    forge = section(ForgeSection, data or {}, name="forge")
    if forge.kind == "github":
        raise ForgeError("forge.kind = 'github' needs the medic_forge library (not installed)")
    remote = forge.remote
    if remote is None:
        import subprocess

        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=repo, capture_output=True, text=True, check=False)
        remote = done.stdout.strip() or None
    if not remote:
        raise ForgeError("forge.remote: no bare repository given and the clone has no origin")
    path = Path(remote.removeprefix("file://"))
    return LocalForge(path if path.is_absolute() else (base_dir / path).resolve())
