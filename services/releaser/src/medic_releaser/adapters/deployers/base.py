"""The deployer interface the rollout drives.

A deploy is ``start`` (returns at once or after a short synchronous step), then ``status`` polled
until ready, then ``activate`` (promote or alias). ``start`` carries a ``key`` unique to the run's
attempt so an ambiguous deploy (started, never confirmed: the releaser died in between) can be
found again with ``find`` before anything else happens.
"""

from __future__ import annotations

from typing import Protocol

from medic_contracts import DeploymentStage

from ...domain.runs import DeploymentRef, DeploymentStatus

__all__ = ["Deployer", "DeploymentStatus"]


class Deployer(Protocol):
    """What the rollout needs from a deployment system."""

    name: str

    async def current(self, *, stage: DeploymentStage) -> DeploymentRef | None:
        """The deployment serving ``stage`` now (the previous good one, before a deploy)."""
        ...

    async def start(self, *, stage: DeploymentStage, ref: str, sha: str, key: str) -> DeploymentRef:
        """Start deploying ``sha`` (of branch ``ref``) to ``stage``."""
        ...

    async def find(self, *, stage: DeploymentStage, key: str) -> DeploymentRef | None:
        """The deployment started with ``key``, if the deployment system has it."""
        ...

    async def status(self, *, stage: DeploymentStage, deployment: DeploymentRef) -> DeploymentStatus:
        """Whether ``deployment`` is still building, ready, or failed."""
        ...

    async def activate(self, *, stage: DeploymentStage, deployment: DeploymentRef) -> DeploymentRef:
        """Make ``deployment`` the one serving ``stage`` (promote, alias); idempotent."""
        ...

    async def rollback(
        self, *, stage: DeploymentStage, to: DeploymentRef | None, failed: DeploymentRef | None, key: str
    ) -> DeploymentRef | None:
        """Serve ``to`` (the previous good deployment) on ``stage`` again; return what serves it now."""
        ...
