"""Commit signing with an SSH (or GPG) key from configuration, and verification with git.

SSH keys are the simple case: git signs with ``ssh-keygen -Y sign`` and verifies against an
allowed-signers file mapping the committer's email to the public key. When none is configured the
file is derived from ``<key>.pub``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .git import Git

__all__ = ["CommitSigner"]


@dataclass(frozen=True, slots=True)
class CommitSigner:
    """How fix commits are signed and verified; ``key=None`` means unsigned."""

    key: Path | None
    format: Literal["ssh", "openpgp"] = "ssh"
    allowed_signers: Path | None = None
    committer_email: str = "medic@localhost"

    def sign_config(self) -> dict[str, str]:
        """``git -c`` settings that make ``git commit -S`` sign with this key."""
        if self.key is None:
            return {"commit.gpgsign": "false"}
        config = {"gpg.format": self.format, "user.signingkey": str(self.key), "commit.gpgsign": "true"}
        if self.format == "ssh" and self.allowed_signers_file():
            config["gpg.ssh.allowedSignersFile"] = str(self.allowed_signers_file())
        return config

    def allowed_signers_file(self) -> Path | None:
        """The allowed-signers file (configured, or written next to the key from ``<key>.pub``)."""
        if self.allowed_signers is not None:
            return self.allowed_signers
        if self.key is None or self.format != "ssh":
            return None
        pub = Path(f"{self.key}.pub")
        if not pub.exists():
            return None
        derived = Path(f"{self.key}.allowed_signers")
        line = f'{self.committer_email} namespaces="git" {pub.read_text().strip()}\n'
        if not derived.exists() or derived.read_text() != line:
            derived.write_text(line)
        return derived

    async def verify(self, git: Git, sha: str) -> str:
        """``good``, ``bad`` or ``unsigned``: what ``git verify-commit`` says about ``sha``."""
        raw = await git.run("cat-file", "commit", sha)
        if "\ngpgsig " not in raw.stdout:
            return "unsigned"
        result = await git.run("verify-commit", sha, check=False, config=self.sign_config())
        return "good" if result.returncode == 0 else "bad"
