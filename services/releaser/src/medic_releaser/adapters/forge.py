"""The forge the releaser merges, reverts and fetches through: ``medic_forge`` (local bare repository or GitHub).

:func:`build_forge` builds it from the target's ``[forge]`` section and wraps it so forge failures
(``medic_forge.ForgeError``: conflicts, rejected pushes, unknown refs) reach the rollout as the
releaser's :class:`~medic_releaser.domain.errors.ForgeError`, a failed step rather than a crash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import medic_forge
from medic_forge import Forge, LocalForge, PullRequest

from ..domain.errors import ForgeError

__all__ = ["Forge", "LocalForge", "PullRequest", "build_forge", "mapped"]


class _ForgeErrors:
    """A forge whose ``medic_forge.ForgeError`` surface as the releaser's ForgeError."""

    def __init__(self, inner: Forge) -> None:
        self._inner = inner
        self.name = str(getattr(inner, "name", "forge"))

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._inner, attr)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await target(*args, **kwargs)
            except medic_forge.ForgeError as exc:
                raise ForgeError(str(exc)) from exc

        return call


def mapped(forge: Forge) -> Forge:
    """``forge`` with its errors mapped to the releaser's ForgeError."""
    wrapped: Forge = _ForgeErrors(forge)
    return wrapped


def build_forge(raw: dict[str, Any], *, base_dir: Path, work_dir: Path, repo: Path | None = None) -> Forge:
    """The forge a target's ``[forge]`` section names; ConfigError names a bad field."""
    return mapped(medic_forge.build_forge(raw, base_dir=base_dir, work_dir=work_dir, repo=repo))
