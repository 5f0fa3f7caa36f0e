"""Release faults across real processes: a releaser killed mid-watch never promotes on what it saw before the kill.

The reported case (issue 17, item 2): the releaser is killed 4.5 s into a 12 s staging watch and
comes back 15 s later, while the new deployment streams an error nobody has seen into the staging
log. It must not promote on the pre-kill samples: the unobserved time does not count, the next
look reads what the log gathered meanwhile, and the release is rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
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
)
from medic_testing.releaser import harness as h
from medic_testing.releaser.faults import deploy_initial, stream_new_errors
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

pytestmark = [pytest.mark.kafka, pytest.mark.e2e, pytest.mark.slow]


async def test_a_releaser_killed_mid_watch_and_back_after_the_window_rolls_back_an_error_it_never_watched(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    topics = TopicRegistry(topic_prefix)
    target = h.write_target(h.make_repo(tmp_path / "target"), release={"staging_watch_s": 12.0, "production_watch_s": 1.0})
    deployer = await deploy_initial(target)
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
