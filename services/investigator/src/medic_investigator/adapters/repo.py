"""The repository checkout the investigator reads, and the only door to it.

Every read (file text, directory listing, search, blame) goes through :class:`Repository`, which
resolves a requested path canonically (``..``, absolute paths, symlinks anywhere on the path) and
refuses anything that lands outside the checkout or inside ``.git``. Paths in error text and in
LLM tool calls are attacker-influenced, so this check is code, never a prompt instruction.

Git runs as a subprocess with a timeout and a scrubbed environment (no pager, no prompts, no
system or global config that could run helpers) and :mod:`medic_forge.git`'s hardening: no
hooks, fsmonitor, external diff or textconv drivers, and literal pathspecs, since a path from a
stack frame reaches git as a pathspec.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from medic_forge.git import hardened_args, hardened_argv, hardened_env
from medic_runtime.aio import bounded
from medic_stacktrace import SourceMapper

from ..domain.errors import PathOutsideRepository, RepositoryUnavailable

__all__ = ["CheckoutCache", "GitResult", "GrepHit", "Repository", "prepare_checkout", "run_git"]

log = logging.getLogger("medic.investigator.repo")

_MAX_READ_BYTES = 512 * 1024
_MAX_MAP_BYTES = 20 * 1024 * 1024  # a source map of a large bundle
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


@dataclass(frozen=True, slots=True)
class GitResult:
    """What a git command said."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class GrepHit:
    """One line found by searching the repository."""

    file: str
    line: int
    text: str


def _git_env() -> dict[str, str]:
    """A minimal environment: no credentials helpers, no pager, no prompts, no user/system config."""
    keep = hardened_env({k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}})
    keep.update({"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C.UTF-8"})
    return keep


async def run_git(cwd: Path, *args: str, timeout_s: float = 30.0, check: bool = True) -> GitResult:
    """Run ``git -C cwd args`` with a timeout; raise :class:`RepositoryUnavailable` on failure when ``check``."""
    proc = await asyncio.create_subprocess_exec(
        *hardened_argv(),
        "-C",
        str(cwd),
        *hardened_args(args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_git_env(),
    )
    try:
        out, err = await bounded(proc.communicate(), timeout=timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise RepositoryUnavailable(f"git {args[0]} timed out after {timeout_s:.0f}s") from None
    result = GitResult(proc.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    if check and result.returncode != 0:
        raise RepositoryUnavailable(f"git {' '.join(args[:2])} failed: {result.stderr.strip()[:500]}")
    return result


class Repository:
    """A checkout of the target's repository, read only through canonical, confined paths."""

    def __init__(self, root: Path, *, commit: str | None = None) -> None:
        resolved = root.resolve(strict=False)
        if not resolved.is_dir():
            raise RepositoryUnavailable(f"repository checkout {root} does not exist")
        self.root = resolved
        self.commit = commit
        self._files: tuple[str, ...] | None = None

    # ---- the guard ----------------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """The canonical absolute path of ``path`` inside the checkout, or :class:`PathOutsideRepository`.

        Accepts repository-relative paths and absolute paths that already point inside the checkout.
        Symlinks are followed before the check, so a link pointing outside is refused.
        """
        if not path or "\x00" in path:
            raise PathOutsideRepository(path, "empty path or NUL byte")
        cleaned = unicodedata.normalize("NFC", _ZERO_WIDTH.sub("", path)).strip()
        if cleaned != path.strip():
            raise PathOutsideRepository(path, "invisible or non-normalised characters")
        candidate = Path(cleaned)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            real = candidate.resolve(strict=False)
        except (OSError, RuntimeError) as exc:  # symlink loops
            raise PathOutsideRepository(path, f"cannot resolve: {exc.__class__.__name__}") from None
        try:
            relative = real.relative_to(self.root)
        except ValueError:
            raise PathOutsideRepository(path, "resolves outside the repository") from None
        if relative.parts and relative.parts[0].casefold() == ".git":
            raise PathOutsideRepository(path, "git internals are not readable")
        return real

    def relative(self, path: str) -> str:
        """The repository-relative POSIX form of a confined path."""
        real = self.resolve(path)
        rel = real.relative_to(self.root).as_posix()
        return "" if rel == "." else rel

    # ---- reads --------------------------------------------------------------------------------

    def is_file(self, path: str) -> bool:
        """True when ``path`` is a regular file inside the checkout (False when refused or missing)."""
        try:
            return self.resolve(path).is_file()
        except PathOutsideRepository:
            return False

    def read_text(self, path: str, *, max_bytes: int = _MAX_READ_BYTES) -> str:
        """A file's text (UTF-8, invalid bytes replaced), at most ``max_bytes``."""
        real = self.resolve(path)
        if not real.is_file():
            raise FileNotFoundError(path)
        with real.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        return data[:max_bytes].decode("utf-8", "replace")

    def lines(self, path: str) -> list[str]:
        """A file's lines without line endings."""
        return self.read_text(path).splitlines()

    def list_dir(self, path: str = "") -> list[str]:
        """Entries of a directory, directories suffixed with ``/``, ``.git`` left out."""
        real = self.resolve(path or ".")
        if not real.is_dir():
            raise NotADirectoryError(path)
        entries = []
        for child in sorted(real.iterdir()):
            if child.name == ".git":
                continue
            entries.append(child.name + ("/" if child.is_dir() else ""))
        return entries

    def source_mappers(self, prefixes: Mapping[str, str], build_roots: Sequence[Path] = ()) -> list[SourceMapper]:
        """medic_stacktrace's source-map readers: over this checkout, then over each directory holding deployed
        builds (the target's ``source_map_roots``); each reads only files inside its own directory."""
        return [SourceMapper(root, prefixes=prefixes, max_bytes=_MAX_MAP_BYTES) for root in (self.root, *build_roots)]

    async def files(self) -> tuple[str, ...]:
        """Every file git tracks in the checkout (cached)."""
        if self._files is None:
            result = await run_git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", check=False)
            if result.returncode == 0:
                self._files = tuple(sorted({f for f in result.stdout.split("\0") if f}))
            else:
                self._files = tuple(sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()))
        return self._files

    async def grep(
        self, pattern: str, *, fixed: bool = True, word: bool = False, max_hits: int = 50, paths: tuple[str, ...] = ()
    ) -> list[GrepHit]:
        """Search tracked text files (``git grep``); ``paths`` limits the search to confined pathspecs."""
        if not pattern or "\x00" in pattern or len(pattern) > 500:
            return []
        args = ["grep", "-n", "-I", "--no-color", "--untracked", "-F" if fixed else "-E"]
        if word:
            args.append("-w")
        args += ["-e", pattern, "--"]
        args += [self.relative(p) or "." for p in paths]
        result = await run_git(self.root, *args, check=False, timeout_s=20)
        hits: list[GrepHit] = []
        for raw in result.stdout.splitlines():
            file, _, rest = raw.partition(":")
            number, _, text = rest.partition(":")
            if number.isdigit():
                hits.append(GrepHit(file=file, line=int(number), text=text[:300]))
            if len(hits) >= max_hits:
                break
        return hits

    async def git(self, *args: str, timeout_s: float = 30.0, check: bool = True) -> GitResult:
        """Run a git command in the checkout."""
        return await run_git(self.root, *args, timeout_s=timeout_s, check=check)


async def prepare_checkout(*, clone: Path, commit: str | None, default_branch: str, workdir: Path) -> Repository:
    """A detached checkout of ``commit`` (else the default branch head) from the target's clone.

    Fetches ``origin`` first when the clone has one (a failed fetch is logged, local objects are used);
    checkouts live under ``workdir`` as git worktrees of the clone and are reused per commit.
    """
    if not (clone / ".git").exists() and not (clone / "HEAD").exists():
        raise RepositoryUnavailable(f"{clone} is not a git repository")
    remotes = (await run_git(clone, "remote", check=False)).stdout.split()
    if "origin" in remotes:
        fetched = await run_git(clone, "fetch", "--quiet", "--prune", "origin", check=False, timeout_s=120)
        if fetched.returncode != 0:
            log.warning("git fetch origin failed in %s: %s", clone, fetched.stderr.strip()[:300])
    sha = None
    candidates = [commit] if commit else []
    candidates += [f"origin/{default_branch}", default_branch, "HEAD"]
    for ref in candidates:
        if not ref or ref.startswith("-"):
            continue
        found = await run_git(clone, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if found.returncode == 0:
            sha = found.stdout.strip()
            break
    if sha is None:
        raise RepositoryUnavailable(f"no commit to read in {clone} (asked for {commit or default_branch})")
    target = workdir / sha
    if (target / ".git").exists():
        head = await run_git(target, "rev-parse", "HEAD", check=False)
        if head.returncode == 0 and head.stdout.strip() == sha:
            return Repository(target, commit=sha)
        shutil.rmtree(target, ignore_errors=True)
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    await run_git(clone, "worktree", "prune", check=False)
    await run_git(clone, "worktree", "add", "--force", "--detach", str(target), sha, timeout_s=120)
    return Repository(target, commit=sha)


class CheckoutCache:
    """Checkouts per (clone, commit) under one work directory; concurrent requests for one commit wait for each other."""

    def __init__(self, workdir: Path, *, keep: int = 5) -> None:
        self.workdir = workdir.resolve()  # git runs in the clone's directory: a relative path would land inside it
        self.keep = keep
        self._locks: dict[Path, asyncio.Lock] = {}

    async def checkout(self, *, clone: Path, commit: str | None, default_branch: str, name: str) -> Repository:
        """The checkout of ``commit`` of ``clone`` (see :func:`prepare_checkout`)."""
        where = self.workdir / name
        lock = self._locks.setdefault(where, asyncio.Lock())
        async with lock:
            repo = await prepare_checkout(clone=clone, commit=commit, default_branch=default_branch, workdir=where)
            await asyncio.to_thread(os.utime, repo.root)
            await self._prune(clone, where, keep=repo.root)
            return repo

    async def _prune(self, clone: Path, where: Path, *, keep: Path) -> None:
        """Remove all but the most recently used checkouts of one clone (disk stays bounded)."""
        entries = await asyncio.to_thread(
            lambda: sorted((p for p in where.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        )
        for old in entries[: max(len(entries) - self.keep, 0)]:
            if old.resolve() == keep:
                continue
            await run_git(clone, "worktree", "remove", "--force", str(old), check=False)
            await asyncio.to_thread(shutil.rmtree, old, True)
