"""Builds the releaser service process: target, forge, deployer, notifiers, store, handlers, worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from medic_contracts import ApprovalRequested, DeploymentResult, load_target
from medic_runtime import ServiceRuntime, run_service

from .adapters.deployers import CommandDeployer, Deployer, VercelDeployer
from .adapters.forge import Forge, build_forge, mapped
from .adapters.notifiers import Notifier, build_notifiers
from .adapters.store import RunStore, release_metadata
from .config import ReleaserTarget, load_releaser_target
from .domain.commands import RELEASE_WORK
from .handlers import Releaser, register, register_unconfigured
from .settings import ReleaserSettings
from .worker import Rollout

__all__ = ["build", "build_deployer", "main"]

log = logging.getLogger("medic.releaser")


def build_deployer(target: ReleaserTarget, *, forge: Forge, data_dir: Path) -> Deployer:
    """The deployer a target's ``[deployer]`` section names."""
    section = target.deployer
    if section.kind == "vercel":
        return VercelDeployer(section)
    state_dir = Path(section.state_dir) if section.state_dir else data_dir / "releaser-deploys" / target.target.name
    if not state_dir.is_absolute():
        state_dir = Path(target.target.base_dir) / state_dir
    return CommandDeployer(section, forge=forge, state_dir=state_dir.resolve())


def build(
    settings: ReleaserSettings,
    *,
    forge: Forge | None = None,
    deployer: Deployer | None = None,
    notifiers: list[Notifier] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ServiceRuntime:
    """Wire the releaser onto a runtime (tests may hand in a forge, deployer, notifiers or a fixed clock)."""
    if settings.target_file is None:
        # No target yet (a bare dev stack): run, stay healthy, and say in the audit trail that nothing is released.
        log.warning("MEDIC_TARGET_FILE is not set: fixes will be recorded as not released")
        bare = ServiceRuntime(settings, extra_tables=(release_metadata,))
        register_unconfigured(bare)
        return bare
    target = load_releaser_target(load_target(settings.target_file))
    base_dir = Path(target.target.base_dir)
    forge = (
        mapped(forge)
        if forge is not None
        else build_forge(
            dict(target.target.forge),
            base_dir=base_dir,
            work_dir=settings.data_dir.resolve() / "releaser-forge",
            repo=target.target.repo_path(),
        )
    )
    deployer = deployer or build_deployer(target, forge=forge, data_dir=settings.data_dir.resolve())
    rt = ServiceRuntime(settings, extra_tables=(release_metadata,))
    rt.publishes(DeploymentResult, ApprovalRequested)
    runs = RunStore(rt.store)
    rollout = Rollout(
        runtime=rt,
        runs=runs,
        target=target,
        forge=forge,
        deployer=deployer,
        notifiers=notifiers if notifiers is not None else build_notifiers(target.notifiers),
        lease_ttl_s=settings.lease_ttl_s,
        dashboard_url=settings.dashboard_url,
        clock=clock,
    )
    register(Releaser(rt=rt, rollout=rollout, target=target.target.name))
    rt.worker(RELEASE_WORK, concurrency=settings.release_concurrency, lease_s=settings.lease_ttl_s)(rollout.drive)
    rt.every(max(settings.lease_ttl_s / 3, 0.5), name="releaser-lease-renewal")(rollout.renew_leases)
    rt.readiness("target_lease_store", rt.store.ping)
    return rt


def main() -> None:
    """Console script `medic-releaser`."""
    run_service(ReleaserSettings, build)
