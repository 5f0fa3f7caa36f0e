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
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from medic_contracts import ConfigError, section

from .git import hardened_argv, hardened_env
from .github import GitHubForge
from .local import LocalForge
from .model import Forge

__all__ = ["GitHubForgeSection", "LocalForgeSection", "build_forge", "forge_section_model"]


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


_LOCAL_KEYS = frozenset(LocalForgeSection.model_fields)
_GITHUB_KEYS = frozenset(GitHubForgeSection.model_fields)


def forge_section_model(data: Mapping[str, Any]) -> type[LocalForgeSection] | type[GitHubForgeSection]:
    """The model that validates a ``[forge]`` section of this ``kind``; :class:`ConfigError` for another kind."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind == "local":
        return LocalForgeSection
    if kind == "github":
        return GitHubForgeSection
    raise ConfigError(f"forge.kind: must be 'local' or 'github', not {kind!r}")


def _own_keys(data: Mapping[str, Any], own: frozenset[str]) -> dict[str, Any]:
    """The section without unset values and without the other kind's keys.

    ``[forge]`` is shared by the implementer and the releaser, whose own models may fill in the
    other kind's defaults (``api_url`` beside ``kind = "local"``); keys no forge knows still reach
    validation, so a typo stops start-up naming the field.
    """
    known = _LOCAL_KEYS | _GITHUB_KEYS
    return {k: v for k, v in data.items() if v is not None and (k in own or k not in known)}


def _origin_of(repo: Path) -> str | None:
    """The ``origin`` URL of the clone at ``repo`` (the house default for the forge remote)."""
    done = subprocess.run(
        [*hardened_argv(), "-C", str(repo), "remote", "get-url", "origin"],
        env=hardened_env(os.environ),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.strip() or None


def build_forge(
    data: Mapping[str, Any],
    *,
    base_dir: Path,
    work_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    repo: Path | None = None,
) -> Forge:
    """The forge a target's ``[forge]`` section describes; :class:`ConfigError` names a bad field.

    ``base_dir`` is the directory of medic.toml (relative ``remote`` paths start there);
    ``work_dir`` holds the forge's private clones (default: ``<tmp>/medic-forge``). ``environ``
    supplies the token variable (default: the process environment; the token is a secret, not
    config). ``repo``, the target's clone, supplies a local forge's ``remote`` when the section
    has none: the clone's ``origin``.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("forge: must be a table with kind = 'local' or 'github'")
    kind = data.get("kind")
    work = work_dir if work_dir is not None else Path(tempfile.gettempdir()) / "medic-forge"
    if kind == "local":
        fields = _own_keys(data, _LOCAL_KEYS)
        if "remote" not in fields and repo is not None:
            origin = _origin_of(repo)
            if origin:
                fields["remote"] = origin.removeprefix("file://")
        local = section(LocalForgeSection, fields, name="forge")
        remote = Path(local.remote)
        remote = remote if remote.is_absolute() else (base_dir / remote)
        if not (remote / "HEAD").is_file():
            raise ConfigError(f"forge.remote: {remote} is not a bare git repository")
        return LocalForge(
            remote,
            work,
            git_timeout_s=local.git_timeout_s,
            lock_timeout_s=local.lock_timeout_s,
            author_name=local.author_name,
            author_email=local.author_email,
        )
    if kind == "github":
        github = section(GitHubForgeSection, _own_keys(data, _GITHUB_KEYS), name="forge")
        env = os.environ if environ is None else environ
        token = env.get(github.token_env, "")
        if not token:
            raise ConfigError(f"forge.token_env: environment variable {github.token_env} is not set")
        return GitHubForge(
            github.repo,
            token,
            api_url=github.api_url,
            git_remote_url=github.git_remote_url,
            work_dir=work,
            merge_method=github.merge_method,
            http_timeout_s=github.http_timeout_s,
            retries=github.retries,
            git_timeout_s=github.git_timeout_s,
            lock_timeout_s=github.lock_timeout_s,
            author_name=github.author_name,
            author_email=github.author_email,
        )
    raise ConfigError(f"forge.kind: must be 'local' or 'github', got {kind!r}")
