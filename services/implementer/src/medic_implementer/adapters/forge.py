"""The forge, through ``medic_forge``: push the fix branch and open (or find) its pull request.

The implementer uses the shared :class:`medic_forge.Forge` interface — a local bare repository
(demo, teams without GitHub) or GitHub through PyGithub — built from the target's ``[forge]``
section. A target without a ``[forge]`` section gets no forge: fixes are committed on the local
branch only (no push, no pull request).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medic_forge import Forge, ForgeError, LocalForge, PullRequest
from medic_forge import build_forge as _build_forge

__all__ = ["FORGE_ERRORS", "Forge", "ForgeError", "LocalForge", "PullRequest", "build_forge", "push", "repository_name"]

#: Exceptions any forge raises for a failed operation (a push rejected, an API error).
FORGE_ERRORS: tuple[type[Exception], ...] = (ForgeError,)


async def push(forge: Forge, *, clone: Path, branch: str) -> str:
    """Push the fix branch, forced where the forge allows it (a rework restarts the branch at the deployed commit)."""
    if "force" in inspect.signature(forge.push_branch).parameters:
        return await forge.push_branch(clone=clone, branch=branch, force=True)  # type: ignore[call-arg]
    return await forge.push_branch(clone=clone, branch=branch)


def build_forge(data: Mapping[str, Any], *, base_dir: Path, work_dir: Path, repo: Path) -> Forge | None:
    """The forge ``[forge]`` describes (``ConfigError`` names a bad field); None without a section."""
    if not data:
        return None
    return _build_forge(data, base_dir=base_dir, work_dir=work_dir, repo=repo)


def repository_name(data: Mapping[str, Any], repo: Path) -> str:
    """What FixCommitted calls the repository: GitHub's owner/name, the bare remote, or the clone's path."""
    return str(data.get("repo") or data.get("remote") or repo)
