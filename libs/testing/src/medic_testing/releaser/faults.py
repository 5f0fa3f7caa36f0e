"""Helpers of the release fault drills: what ran before Medic's release, and a deployment failing in a new way."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from medic_contracts import DeploymentStage, load_target
from medic_forge import LocalForge
from medic_releaser.adapters.deployers import CommandDeployer
from medic_releaser.app import build_deployer
from medic_releaser.config import load_releaser_target

from .harness import Target, wait_http

__all__ = ["deploy_initial", "stream_new_errors"]


async def deploy_initial(target: Target) -> CommandDeployer:
    """What ran before Medic's release: main on both stages (stop it with ``stop_all()``)."""
    deployer = build_deployer(
        load_releaser_target(load_target(target.toml)),
        forge=LocalForge(target.repo.remote, target.repo.root / "forge-work"),
        data_dir=target.state_dir,
    )
    if not isinstance(deployer, CommandDeployer):
        raise TypeError(f"expected the command deployer, got {type(deployer).__name__}")
    sha = target.repo.head("main")
    for stage, st in ((DeploymentStage.STAGING, target.staging), (DeploymentStage.PRODUCTION, target.production)):
        await deployer.start(stage=stage, ref="main", sha=sha, key=f"initial-{stage.value}")
        await wait_http(f"{st.url}/health")
    return deployer


async def stream_new_errors(log: Path, *, every_s: float = 0.2) -> None:
    """The new deployment failing in a way nobody has seen, a few times a second (until cancelled)."""
    while True:
        entry = {"ts": "2026-12-07T00:00:00Z", "level": "error", "msg": "request failed", "route": "/checkout",
                 "error": {"type": "LedgerDesync", "message": "ledger out of sync", "stack": ""}}  # fmt: skip
        with log.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        await asyncio.sleep(every_s)
