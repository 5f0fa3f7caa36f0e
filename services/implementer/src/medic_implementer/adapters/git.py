"""Git through its command line, asynchronously, with timeouts.

Every call is an argv list (never a shell string) run in a subprocess with a scrubbed, predictable
environment: no pager, no prompts, no user or system config that could change behaviour, and
:func:`medic_forge.git.hardened_argv`'s settings: the worktrees share the target repository's
``.git``, which an untrusted test or a planted file may have written, so no hook, fsmonitor or
pathspec magic from it ever runs or applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from medic_forge.git import hardened_args, hardened_argv, hardened_env
from medic_runtime.aio import bounded

from ..domain.diffscan import DiffEntry, parse_raw_z

__all__ = ["Git", "GitError", "GitResult"]


class GitError(RuntimeError):
    """A git command failed; carries its argv, exit status and stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args[:3])} failed ({returncode}): {stderr.strip()[:500]}")
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True, slots=True)
class GitResult:
    """Exit status and output of one git command."""

    returncode: int
    stdout: str
    stderr: str


def _base_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = hardened_env(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),  # ssh-keygen (signing) looks here; no git config is read
        }
    )
    env |= {
        "LANG": "C.UTF-8",
        "GIT_AUTHOR_NAME": "Medic",
        "GIT_AUTHOR_EMAIL": "medic@localhost",
        "GIT_COMMITTER_NAME": "Medic",
        "GIT_COMMITTER_EMAIL": "medic@localhost",
    }
    if extra:
        env.update(extra)
    return env


class Git:
    """Runs git in one working directory."""

    def __init__(self, cwd: Path, *, env: Mapping[str, str] | None = None, timeout_s: float = 120.0) -> None:
        self.cwd = Path(cwd)
        self.env = _base_env(env)
        self.timeout_s = timeout_s

    def at(self, cwd: Path) -> Git:
        """The same settings in another directory (a worktree)."""
        clone = Git(cwd, timeout_s=self.timeout_s)
        clone.env = dict(self.env)
        return clone

    async def run(
        self, *args: str, check: bool = True, input_text: str | None = None, config: Mapping[str, str] | None = None
    ) -> GitResult:
        """Run ``git <args>``; raise :class:`GitError` on a non-zero exit when ``check``."""
        argv = hardened_argv()
        for key, value in (config or {}).items():
            argv += ["-c", f"{key}={value}"]
        argv += hardened_args(args)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.PIPE if input_text is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await bounded(
                proc.communicate(input_text.encode() if input_text is not None else None), timeout=self.timeout_s
            )
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise GitError(list(args), -9, f"timed out after {self.timeout_s:.0f}s") from None
        result = GitResult(proc.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
        if check and result.returncode != 0:
            raise GitError(list(args), result.returncode, result.stderr or result.stdout)
        return result

    async def out(self, *args: str, config: Mapping[str, str] | None = None) -> str:
        """stdout of a successful command, stripped."""
        return (await self.run(*args, config=config)).stdout.strip()

    async def changes(self, base: str, head: str | None = None, *, worktree: bool = False) -> list[DiffEntry]:
        """What changed from ``base`` to ``head`` (a commit), to the index when ``head`` is None, or to the
        tracked files on disk when ``worktree``.

        ``--raw -z -M -C``: renames and copies with both names, modes, and names exactly as they
        are (no quoting), so nothing a tab, a quote or a non-ASCII letter hides slips past the guard.
        """
        sides = [base] if worktree else ["--cached", base] if head is None else [base, head]
        raw = await self.run("diff", "--raw", "-z", "-M", "-C", "--no-abbrev", *sides)
        return parse_raw_z(raw.stdout)

    async def rev_parse(self, rev: str) -> str | None:
        """The full sha of ``rev`` (a commit), or None when it does not resolve."""
        result = await self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return result.stdout.strip() or None if result.returncode == 0 else None
