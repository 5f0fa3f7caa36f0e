"""The ``[forge]`` section of ``medic.toml`` and the factory that turns it into a forge.

```toml
[forge]                      # a plain bare repository (demo, teams without GitHub)
kind = "local"
remote = "../shop-remote.git"   # relative to medic.toml

[forge]                      # GitHub
kind = "github"
repo = "acme/shop"
api_url = "https://api.github.com"   # GitHub Enterprise: https://ghe.example.com/api/v3
token_env = "GITHUB_TOKEN"           # the environment variable holding the token
git_remote_url = "https://github.com/acme/shop.git"   # optional
merge_method = "merge"               # merge | squash | rebase
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from medic_contracts import ConfigError, section

from .github import GitHubForge
from .local import LocalForge
from .model import Forge

__all__ = ["GitHubForgeSection", "LocalForgeSection", "build_forge"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    git_timeout_s: float = Field(default=120.0, gt=0, le=3600, description="Kill a git command after this long.")
    lock_timeout_s: float = Field(default=300.0, gt=0, le=3600, description="Give up waiting for another merge after this long.")
    author_name: str = Field(default="Medic", min_length=1, description="Author of merge and revert commits.")
    author_email: str = Field(default="medic@localhost", min_length=3, description="Email of merge and revert commits.")


class LocalForgeSection(_Section):
    """``kind = "local"``: a bare git repository as the remote."""

    kind: Literal["local"]
    remote: str = Field(min_length=1, description="Path of the bare repository (relative to medic.toml).")


class GitHubForgeSection(_Section):
    """``kind = "github"``: a GitHub (or GitHub Enterprise) repository."""

    kind: Literal["github"]
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    api_url: str = Field(default="https://api.github.com", pattern=r"^https?://", description="REST API base URL.")
    token_env: str = Field(default="GITHUB_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Env var with the token.")
    git_remote_url: str | None = Field(default=None, description="Where git pushes and clones (default: from api_url).")
    merge_method: Literal["merge", "squash", "rebase"] = Field(default="merge", description="How pull requests are merged.")
    http_timeout_s: int = Field(default=15, gt=0, le=300, description="Timeout of one API request.")
    retries: int = Field(default=3, ge=0, le=10, description="Retries of failed API requests (5xx, rate limits).")


def build_forge(data: Mapping[str, Any], *, base_dir: Path, work_dir: Path, environ: Mapping[str, str] | None = None) -> Forge:
    """The forge a target's ``[forge]`` section describes; :class:`ConfigError` names a bad field.

    ``base_dir`` is the directory of medic.toml (relative ``remote`` paths start there);
    ``work_dir`` holds the forge's private clones. ``environ`` supplies the token variable
    (defaults to the process environment: the token is a secret, not config).
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind == "local":
        local = section(LocalForgeSection, data, name="forge")
        remote = Path(local.remote)
        remote = remote if remote.is_absolute() else (base_dir / remote)
        if not (remote / "HEAD").is_file():
            raise ConfigError(f"forge.remote: {remote} is not a bare git repository")
        return LocalForge(
            remote,
            work_dir,
            git_timeout_s=local.git_timeout_s,
            lock_timeout_s=local.lock_timeout_s,
            author_name=local.author_name,
            author_email=local.author_email,
        )
    if kind == "github":
        github = section(GitHubForgeSection, data, name="forge")
        env = os.environ if environ is None else environ
        token = env.get(github.token_env, "")
        if not token:
            raise ConfigError(f"forge.token_env: environment variable {github.token_env} is not set")
        return GitHubForge(
            github.repo,
            token,
            api_url=github.api_url,
            git_remote_url=github.git_remote_url,
            work_dir=work_dir,
            merge_method=github.merge_method,
            http_timeout_s=github.http_timeout_s,
            retries=github.retries,
            git_timeout_s=github.git_timeout_s,
            lock_timeout_s=github.lock_timeout_s,
            author_name=github.author_name,
            author_email=github.author_email,
        )
    raise ConfigError(f"forge.kind: must be 'local' or 'github', got {kind!r}")
