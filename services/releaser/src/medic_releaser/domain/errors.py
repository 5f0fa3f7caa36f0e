"""The releaser's domain errors."""

from __future__ import annotations

__all__ = ["DeployError", "ForgeError", "ReleaseError", "RunConflict"]


class ReleaseError(Exception):
    """A release step could not be carried out."""


class DeployError(ReleaseError):
    """A deployer could not deploy, confirm, or roll back."""


class ForgeError(ReleaseError):
    """A forge operation (merge, revert, fetch) failed."""


class RunConflict(ReleaseError):
    """A compare-and-set on a run lost: someone else changed it first."""
