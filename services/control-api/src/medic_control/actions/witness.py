"""Witnesses: where signed checkpoints are published, outside the store, so a rewrite or truncation shows.

One interface, :class:`Witness` (publish a checkpoint, read back every checkpoint published),
with three implementations chosen by URL:

- ``file:///path/checkpoints.jsonl``: one JSON line per checkpoint, appended;
- ``git+file:///path/repo.git`` (optionally ``#refs/...``): one commit per checkpoint on
  ``refs/medic/audit-checkpoints`` in a (bare) repository, through the forge's git, the commit
  message being the checkpoint; the ref only moves forward (compare-and-swap update);
- ``http(s)://…``: POST of the checkpoint's JSON; a GET of the same URL lists them.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import httpx

from .checkpoint import Checkpoint

__all__ = ["DEFAULT_REF", "FileWitness", "GitWitness", "HttpWitness", "Witness", "WitnessError", "witness_from_url"]

#: The ref checkpoints are committed on in a git witness.
DEFAULT_REF = "refs/medic/audit-checkpoints"


class WitnessError(RuntimeError):
    """A witness could not be written or read."""


class Witness(Protocol):
    """Somewhere checkpoints are kept outside the store."""

    async def publish(self, checkpoint: Checkpoint) -> None:
        """Record ``checkpoint``."""
        ...

    async def read(self) -> list[Checkpoint]:
        """Every checkpoint recorded, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class FileWitness:
    """Checkpoints as JSON lines in a file."""

    path: Path

    async def publish(self, checkpoint: Checkpoint) -> None:
        """Append one line."""
        line = json.dumps(checkpoint.to_json(), separators=(",", ":")) + "\n"

        def write() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)

        await asyncio.to_thread(write)

    async def read(self) -> list[Checkpoint]:
        """Every line, parsed (an absent file: none)."""
        try:
            text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            return Checkpoint.parse_many(text)
        except ValueError as exc:
            raise WitnessError(f"{self.path}: {exc}") from None


@dataclass(frozen=True, slots=True)
class GitWitness:
    """Checkpoints as commits on a ref of a git repository (the forge's bare remote)."""

    repo: Path
    ref: str = DEFAULT_REF

    async def _git(self, *args: str, check: bool = True) -> str:
        from medic_forge.git import Git, check_branch_name
        from medic_forge.model import GitCommandError, UnsafeRefError

        try:  # a full ref name under refs/, each part a safe name (the forge's rules)
            check_branch_name(self.ref.removeprefix("refs/"))
        except UnsafeRefError as exc:
            raise WitnessError(str(exc)) from None
        if not self.ref.startswith("refs/"):
            raise WitnessError(f"the witness ref must be a full ref name under refs/, not {self.ref!r}")
        try:
            result = await Git(timeout_s=30.0).run(f"--git-dir={self.repo}", *args, check=check)
        except GitCommandError as exc:
            raise WitnessError(f"git witness {self.repo}: {exc}") from None
        return result.stdout.strip() if result.ok else ""

    async def publish(self, checkpoint: Checkpoint) -> None:
        """Commit the checkpoint on top of the ref (refused if the ref moved meanwhile)."""
        message = json.dumps(checkpoint.to_json(), separators=(",", ":"))
        tree = await self._git("hash-object", "-w", "-t", "tree", "/dev/null")  # the empty tree
        parent = await self._git("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}", check=False)
        commit = await self._git("commit-tree", tree, *(("-p", parent) if parent else ()), "-m", message)
        await self._git("update-ref", self.ref, commit, parent or "0" * 40)

    async def read(self) -> list[Checkpoint]:
        """Every checkpoint on the ref, oldest first."""
        if not await self._git("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}", check=False):
            return []
        log = await self._git("log", "--reverse", "--format=%B%x00", self.ref)
        try:
            return [Checkpoint.from_json(json.loads(m)) for m in log.split("\x00") if m.strip()]
        except ValueError as exc:
            raise WitnessError(f"git witness {self.repo} {self.ref}: {exc}") from None


@dataclass(frozen=True, slots=True)
class HttpWitness:
    """Checkpoints POSTed to an HTTP endpoint (bearer token optional); GET lists them."""

    url: str
    token: str | None = None
    timeout_s: float = 10.0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def publish(self, checkpoint: Checkpoint) -> None:
        """POST the checkpoint."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(self.url, json=checkpoint.to_json(), headers=self._headers())
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise WitnessError(f"HTTP witness {self.url}: {exc}") from None

    async def read(self) -> list[Checkpoint]:
        """GET the list."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.get(self.url, headers=self._headers())
                response.raise_for_status()
            return Checkpoint.parse_many(response.text)
        except (httpx.HTTPError, ValueError) as exc:
            raise WitnessError(f"HTTP witness {self.url}: {exc}") from None


def witness_from_url(url: str, *, token: str | None = None) -> Witness:
    """The witness a URL names (ValueError for an unknown scheme)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileWitness(Path(unquote(parts.path)))
    if parts.scheme == "git+file":
        return GitWitness(Path(unquote(parts.path)), ref=parts.fragment or DEFAULT_REF)
    if parts.scheme in ("http", "https"):
        return HttpWitness(url, token=token)
    raise ValueError(f"unknown witness {url!r}: expected file://, git+file:// or http(s)://")
