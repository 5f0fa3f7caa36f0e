"""Fixtures for releaser tests: a real target (git remote, app processes on free ports) and a runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import DeploymentStage, load_target
from medic_forge import LocalForge
from medic_releaser.adapters.deployers import CommandDeployer
from medic_releaser.app import build_deployer
from medic_releaser.config import load_releaser_target

from .harness import Target, make_repo, wait_http, write_target


async def deploy_initial(target: Target) -> CommandDeployer:
    """Deploy main to both stages (what was running before Medic's release): the previous good deployments."""
    loaded = load_releaser_target(load_target(target.toml))
    deployer = build_deployer(
        loaded, forge=LocalForge(target.repo.remote, target.repo.root / "forge-work"), data_dir=target.state_dir
    )
    assert isinstance(deployer, CommandDeployer)
    sha = target.repo.head("main")
    for stage, st in ((DeploymentStage.STAGING, target.staging), (DeploymentStage.PRODUCTION, target.production)):
        await deployer.start(stage=stage, ref="main", sha=sha, key=f"initial-{stage.value}")
        await wait_http(f"{st.url}/health")
    return deployer


@pytest.fixture
async def make_target(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build a deployed target: ``await make_target(release={...})``; every app process is stopped afterwards."""
    deployers: list[CommandDeployer] = []

    async def make(release: dict[str, Any] | None = None, name: str = "shop") -> Target:
        target = write_target(make_repo(tmp_path / f"t{len(deployers)}"), release=release, name=name)
        deployers.append(await deploy_initial(target))
        return target

    yield make
    for deployer in deployers:
        await deployer.stop_all()
