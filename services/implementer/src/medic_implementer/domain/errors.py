"""Domain errors of the implementer: each says what went wrong in the domain's words."""

from __future__ import annotations

__all__ = ["FixRefused", "ImplementerError", "NoFixFound", "WorkspaceError"]


class ImplementerError(Exception):
    """Base of the implementer's own errors."""


class WorkspaceError(ImplementerError):
    """A git worktree could not be created, reset or removed."""


class FixRefused(ImplementerError):
    """A fix would write a protected path (or otherwise break a hard rule): nothing is written."""

    def __init__(self, reason: str, *, paths: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.paths = paths


class NoFixFound(ImplementerError):
    """No candidate fix passed validation."""
