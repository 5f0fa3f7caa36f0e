"""Release faults across real processes: a releaser killed mid-watch never promotes on what it saw before the kill.

The reported case (issue 17, item 2): the releaser is killed 4.5 s into a 12 s staging watch and
comes back 15 s later, while the new deployment streams an error nobody has seen into the staging
log. It must not promote on the pre-kill samples: the unobserved time does not count, the next
look reads what the log gathered meanwhile, and the release is rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    AutonomyLevel,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    MedicConfig,
    Severity,
    TopicRegistry,
    load_target,
)
from medic_forge import LocalForge
from medic_releaser.adapters.deployers import CommandDeployer
from medic_releaser.app import build_deployer
from medic_releaser.config import load_releaser_target
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

pytestmark = [pytest.mark.kafka, pytest.mark.e2e, pytest.mark.slow]

HARNESS = Path(__file__).resolve().parents[2] / "services" / "releaser" / "tests" / "harness.py"


def releaser_harness() -> ModuleType:
    """The releaser's test harness (target repo, app processes, bus helpers), loaded from its file."""
    name = "medic_releaser_fault_harness"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


async def deploy_initial(h: ModuleType, target: Any) -> CommandDeployer:
    """What ran before Medic's release: main on both stages."""
    deployer = build_deployer(
        load_releaser_target(load_target(target.toml)),
        forge=LocalForge(target.repo.remote, target.repo.root / "forge-work"),
        data_dir=target.state_dir,
    )
    assert isinstance(deployer, CommandDeployer)
    sha = target.repo.head("main")
    for stage, st in ((DeploymentStage.STAGING, target.staging), (DeploymentStage.PRODUCTION, target.production)):
        await deployer.start(stage=stage, ref="main", sha=sha, key=f"initial-{stage.value}")
        await h.wait_http(f"{st.url}/health")
    return deployer


async def stream_new_errors(log: Path) -> None:
    """The new deployment failing in a way nobody has seen, a few times a second."""
    while True:
        entry = {"ts": "2026-12-07T00:00:00Z", "level": "error", "msg": "request failed", "route": "/checkout",
                 "error": {"type": "LedgerDesync", "message": "ledger out of sync", "stack": ""}}  # fmt: skip
        with log.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        await asyncio.sleep(0.2)


async def test_a_releaser_killed_mid_watch_and_back_after_the_window_rolls_back_an_error_it_never_watched(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    h = releaser_harness()
    topics = TopicRegistry(topic_prefix)
    target = h.write_target(h.make_repo(tmp_path / "target"), release={"staging_watch_s": 12.0, "production_watch_s": 1.0})
    deployer = await deploy_initial(h, target)
    env = test_env(kafka_bootstrap, topic_prefix, tmp_path / "releaser-data", MEDIC_TARGET_FILE=str(target.toml),
                   MEDIC_LEASE_TTL_S="2", MEDIC_LOG_FORMAT="text")  # fmt: skip

    def releaser(name: str) -> ServiceProcess:
        return ServiceProcess.console_script(name, "medic-releaser", env={**env, "MEDIC_INSTANCE_ID": name}, log_dir=tmp_path)

    first, second = releaser("releaser-a"), releaser("releaser-b")
    stream: asyncio.Task[None] | None = None
    try:
        await h.publish(kafka_bootstrap, topics, h.control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
        fix = h.fix_event(target.repo, issue_id="iss_unwatched", behaviour={"version": 2}, severity=Severity.P1)
        first.start()
        async with h.EventLog(kafka_bootstrap, topics) as log, h.traffic(f"{target.staging.url}/work"):

            def staging(events: list[Any]) -> list[DeploymentResult]:
                return [e for e in events if isinstance(e, DeploymentResult) and e.stage is DeploymentStage.STAGING]

            def watching(events: list[Any]) -> list[ActionRecorded]:
                return [e for e in events if isinstance(e, ActionRecorded) and e.action == "releaser.watch"
                        and e.status is ActionStatus.STARTED]  # fmt: skip

            await h.publish(kafka_bootstrap, topics, fix)
            await log.wait_for(watching, timeout=90)
            await asyncio.sleep(4.5)
            await asyncio.to_thread(first.kill)
            assert not staging(log.events), "nothing decided before the kill"
            stream = asyncio.create_task(stream_new_errors(target.staging.log))
            await asyncio.sleep(15.0)  # longer than what was left of the window
            second.start()
            await asyncio.to_thread(second.wait_healthy, 90.0)
            done = await log.wait_for(staging, timeout=90)
            assert done[0].outcome is DeploymentOutcome.ROLLED_BACK, (done[0].outcome, done[0].reason)
            assert "new error fingerprints" in done[0].reason
            assert done[0].producer.instance == "releaser-b"
            await asyncio.sleep(1.0)
            assert len(staging(log.events)) == 1
            assert target.repo.behaviour_on("staging")["version"] == 1  # the merge was reverted
    finally:
        if stream is not None:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stream
        await asyncio.to_thread(first.stop)
        await asyncio.to_thread(second.stop)
        await deployer.stop_all()
