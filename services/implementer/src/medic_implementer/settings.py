"""Settings of the implementer service (environment variables prefixed ``MEDIC_``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from medic_runtime import ServiceSettings

__all__ = ["ImplementerSettings", "default_tool_paths"]


def default_tool_paths() -> tuple[Path, ...]:
    """The Medic checkout's ``tools/node/node_modules/.bin`` (tsx for TypeScript targets) and this Python's ``bin``."""
    checkout = Path(__file__).resolve().parents[4]
    return (checkout / "tools" / "node" / "node_modules" / ".bin", Path(sys.executable).parent)


class ImplementerSettings(ServiceSettings):
    """The implementer's settings."""

    service_name: str = "implementer"

    target_file: Path | None = Field(
        default=None,
        description="The target file (medic.toml) naming repo, tests, forge (MEDIC_TARGET_FILE). Without one the "
        "implementer runs but records every diagnosis as not fixed.",
    )
    workspace_dir: Path | None = Field(
        default=None, description="Where per-issue worktrees are created (default: <data_dir>/worktrees)."
    )
    tool_paths: tuple[Path, ...] = Field(
        default_factory=default_tool_paths,
        description="Directories put first on PATH for test runs (JSON list): tsx/node tools, the Python environment.",
    )
    test_cpu_seconds: int = Field(default=900, ge=1, description="CPU-time limit of one test run (RLIMIT_CPU).")
    test_memory_mb: int = Field(
        default=8192, ge=64, description="Data-segment limit of one test run (RLIMIT_DATA: heap and private mappings), MiB."
    )
    test_isolate_network: bool = Field(default=True, description="Run tests in an empty network namespace where possible.")
    max_candidates: int = Field(default=4, ge=1, le=20, description="Template candidates validated per issue.")
    fix_concurrency: int = Field(default=1, ge=1, le=16, description="Fixes worked on at once by this instance.")
    fix_lease_s: float = Field(default=120.0, ge=10, description="Work-item lease (renewed while a fix runs).")

    signing_key: Path | None = Field(default=None, description="Private key fix commits are signed with (none: unsigned).")
    signing_format: Literal["ssh", "openpgp"] = Field(default="ssh", description="ssh (ssh-keygen) or openpgp (gpg).")
    allowed_signers: Path | None = Field(default=None, description="SSH allowed-signers file (default: derived from <key>.pub).")
    committer_email: str = Field(
        default="medic@localhost", description="Committer email of fix commits (the signer's principal)."
    )

    anthropic_api_key: SecretStr | None = Field(default=None, description="Claude API key (the Claude fixer runs only with one).")
    anthropic_base_url: str | None = Field(default=None, description="Claude API base URL (a proxy or a local fake in tests).")

    pr_labels: tuple[str, ...] = Field(default=("medic", "auto-fix"), description="Labels put on fix pull requests (JSON list).")

    def forge_dir(self) -> Path:
        """Where the forge keeps its private clones."""
        return (self.data_dir / "forge").resolve()

    def worktree_root(self) -> Path:
        """Where worktrees go."""
        return (self.workspace_dir or self.data_dir / "worktrees").resolve()
