"""Settings of the implementer service (environment variables prefixed ``MEDIC_``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from medic_runtime import ServiceSettings

__all__ = ["ImplementerSettings", "default_tool_paths"]

# Read by SDKs on their own when set: never left in this process's environment for children to inherit.
_SDK_SECRETS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")


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
    fix_min_confidence: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Calibrated confidence a reproduced and verified fix needs to be committed without a human "
        "(the diagnosis' confidence tempered by the strategy memory's record; below it the fix waits for approval).",
    )
    fix_require_reproduction: bool = Field(
        default=True,
        description="Release a fix without a human only when the failure was reproduced on the unfixed code and the "
        "fix makes the reproduction pass (False: an unreproduced fix may still be committed within policy).",
    )
    fix_concurrency: int = Field(default=1, ge=1, le=16, description="Fixes worked on at once by this instance.")
    fix_lease_s: float = Field(default=120.0, ge=10, description="Work-item lease (renewed while a fix runs).")

    signing_key: Path | None = Field(default=None, description="Private key fix commits are signed with (none: unsigned).")
    signing_format: Literal["ssh", "openpgp"] = Field(default="ssh", description="ssh (ssh-keygen) or openpgp (gpg).")
    allowed_signers: Path | None = Field(default=None, description="SSH allowed-signers file (default: derived from <key>.pub).")
    committer_email: str = Field(
        default="medic@localhost", description="Committer email of fix commits (the signer's principal)."
    )

    anthropic_api_key: SecretStr | None = Field(
        default=None,
        description="Claude API key (MEDIC_ANTHROPIC_API_KEY; kept for compatibility: prefer the key file). Removed "
        "from the process environment at start-up, but /proc/<pid>/environ still shows the environment the process "
        "was started with.",
    )
    anthropic_api_key_file: Path | None = Field(
        default=None,
        description="File holding the Claude API key (MEDIC_ANTHROPIC_API_KEY_FILE, e.g. a mounted Kubernetes "
        "secret), read at each call: the key is never in this process's environment. Wins over the variable.",
    )
    sandbox_uid: int = Field(default=65534, ge=1, description="User the target's tests run as (nobody).")
    sandbox_gid: int = Field(default=65534, ge=1, description="Group the target's tests run as (nogroup).")
    test_max_processes: int = Field(
        default=1024, ge=16, description="Processes the sandbox user may have at once (RLIMIT_NPROC): bounds fork bombs."
    )
    anthropic_base_url: str | None = Field(default=None, description="Claude API base URL (a proxy or a local fake in tests).")

    pr_labels: tuple[str, ...] = Field(default=("medic", "auto-fix"), description="Labels put on fix pull requests (JSON list).")

    def has_anthropic_key(self) -> bool:
        """True when a Claude API key is configured (file or variable)."""
        return self.anthropic_api_key_file is not None or self.anthropic_api_key is not None

    def scrub_secret_environment(self) -> tuple[str, ...]:
        """Remove secret variables from this process's environment once settings hold them; the names removed.

        Children started afterwards (git, signing, tests) cannot inherit them even if an allow-list slips. The
        kernel keeps the *initial* environment block readable at /proc/<pid>/environ for this uid: the sandbox's
        user switch and PID namespace keep tests away from it, and the key file keeps the key out of it at all.
        """
        prefix = str(self.model_config.get("env_prefix", ""))
        secret_fields = [name for name, info in type(self).model_fields.items() if "SecretStr" in str(info.annotation)]
        names = (*(f"{prefix}{name}".upper() for name in secret_fields), *_SDK_SECRETS)
        removed = tuple(name for name in names if name in os.environ)
        for name in removed:
            del os.environ[name]
        return removed

    def forge_dir(self) -> Path:
        """Where the forge keeps its private clones."""
        return (self.data_dir / "forge").resolve()

    def worktree_root(self) -> Path:
        """Where worktrees go."""
        return (self.workspace_dir or self.data_dir / "worktrees").resolve()
