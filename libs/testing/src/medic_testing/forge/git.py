"""The bare repository behind the fake: refs are read from it, and merges are real ``git merge`` commits pushed to it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from medic_forge.git import hardened_argv, hardened_env

from .protocol import HttpError

__all__ = ["BareRepository"]


class BareRepository:
    """The bare repository ``remote``; merges are made in a scratch clone under ``scratch``."""

    def __init__(self, remote: Path, *, scratch: Path) -> None:
        self.remote = remote
        self.scratch = scratch

    def git(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run git on the bare repository (or in ``cwd``); a failure with ``check`` answers 500."""
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR")}
        env.update(
            {
                "LC_ALL": "C",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "GitHub",
                "GIT_AUTHOR_EMAIL": "noreply@github.com",
                "GIT_COMMITTER_NAME": "GitHub",
                "GIT_COMMITTER_EMAIL": "noreply@github.com",
            }
        )
        if cwd is None:
            args = ("--git-dir", str(self.remote), *args)
        argv = [*hardened_argv(), *args]
        result = subprocess.run(argv, cwd=cwd, env=hardened_env(env), capture_output=True, text=True, timeout=60, check=False)
        if check and result.returncode != 0:
            raise HttpError(500, f"git {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return result

    def sha(self, ref: str) -> str | None:
        """The commit ``ref`` names (None when it names none)."""
        result = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def branch_sha(self, branch: str) -> str | None:
        """The sha of ``branch`` (None when missing)."""
        return self.sha(f"refs/heads/{branch}")

    def resolve(self, ref: str) -> str:
        """The commit a sha or a branch name names; 422 as GitHub answers when there is none."""
        sha = self.sha(ref) if re.fullmatch(r"[0-9a-fA-F]{7,64}", ref) else self.branch_sha(ref)
        if sha is None:
            raise HttpError(422, f"No commit found for SHA: {ref}")
        return sha

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def _clone(self) -> Path:
        clone = self.scratch / "clone"
        if not (clone / ".git").is_dir():
            self.git("clone", "--quiet", "--no-checkout", str(self.remote), str(clone), cwd=self.scratch)
        self.git("fetch", "--quiet", "--prune", "--force", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=clone)
        return clone

    def merge(self, *, base: str, head_sha: str, message: str, squash: bool = False) -> str | None:
        """Merge ``head_sha`` into ``base`` for real; None on conflict (nothing is pushed)."""
        clone = self._clone()
        base_sha = self.branch_sha(base)
        if base_sha is None:
            raise HttpError(404, "Base does not exist")
        self.git("checkout", "--quiet", "--force", "--detach", base_sha, cwd=clone)
        self.git("clean", "-ffdxq", cwd=clone)
        args = ["merge", "--squash", head_sha] if squash else ["merge", "--no-ff", "--no-edit", "-m", message, head_sha]
        merged = self.git(*args, cwd=clone, check=False)
        if merged.returncode != 0:
            self.git("merge", "--abort", cwd=clone, check=False)
            self.git("reset", "--quiet", "--hard", base_sha, cwd=clone, check=False)
            return None
        if squash:
            self.git("commit", "--quiet", "--no-verify", "-m", message, cwd=clone)
        sha = self.git("rev-parse", "HEAD", cwd=clone).stdout.strip()
        self.git("push", "--quiet", "origin", f"{sha}:refs/heads/{base}", cwd=clone)
        return sha
