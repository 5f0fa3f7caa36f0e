"""Leases: one release at a time per target (the target lease) and per target and stage (the stage slots).

A crashed instance's leases and slots lapse after their TTL; a live one renews them between steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medic_contracts import DeploymentStage
from medic_runtime import RetryLater

from ..domain.runs import ReleaseRun, RunStatus
from ..domain.transitions import slots_for

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["release_lease_if_idle", "release_slots", "renew", "take_slots"]

STAGING, PRODUCTION = DeploymentStage.STAGING, DeploymentStage.PRODUCTION


async def take_slots(w: Rollout, run: ReleaseRun) -> None:
    """Take (or renew) the run's stage slots before its next step; RetryLater while another run holds one."""
    for stage in slots_for(run):
        taken = await w.runs.acquire_slot(
            target=run.target, stage=stage.value, run_id=run.run_id, instance=w.holder, ttl_s=w.lease_ttl_s
        )
        if not taken:
            holder = await w.runs.slot_holder(target=run.target, stage=stage.value)
            raise RetryLater(w.target.release.blocked_retry_s, f"waiting for release {holder} on {run.target} {stage.value}")


async def release_slots(w: Rollout, run: ReleaseRun) -> None:
    """Free both stage slots of a finished (or crashed-after-finishing) run."""
    for stage in (PRODUCTION, STAGING):
        await w.runs.release_slot(target=run.target, stage=stage.value, run_id=run.run_id)


async def release_lease_if_idle(w: Rollout, target: str) -> None:
    """Give the target's lease back when none of its runs is active."""
    if not [r for r in await w.runs.active(target=target) if r.status is RunStatus.ACTIVE]:
        await w.runs.release_lease(target=target, holder=w.holder)


async def renew(w: Rollout) -> None:
    """Keep the leases of targets with active runs while waiting between steps."""
    active = await w.runs.active(target=w.target.target.name)
    if active:
        holder = await w.runs.lease_holder(target=w.target.target.name)
        if holder == w.holder:
            await w.runs.acquire_lease(target=w.target.target.name, holder=w.holder, ttl_s=w.lease_ttl_s)
        # A run waiting between steps keeps its stage slots; a crashed instance's lapse.
        await w.runs.renew_slots(instance=w.holder, run_ids=[r.run_id for r in active], ttl_s=w.lease_ttl_s)
