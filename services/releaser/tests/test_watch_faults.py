"""A watch is decided on its whole window: a restart or a pause longer than the window never promotes on stale samples.

Each test runs a real rollout (real broker, real git remote, real app processes) and interrupts the
staging watch: the releaser is stopped and started again on the same store, or the service is
paused. Time nobody observed does not count toward the window (domain.watch).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    AutonomyLevel,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentStage,
    MedicConfig,
    Severity,
    TopicRegistry,
    load_target,
)
from medic_forge import LocalForge
from medic_releaser.adapters.store import RunStore
from medic_releaser.app import build_deployer
from medic_releaser.config import load_releaser_target
from medic_releaser.domain.runs import ReleaseRun, run_id_for
from medic_testing.runtime.settle import wait_settled

from .harness import EventLog, Target, control_state, fix_event, publish, traffic, wait_http
from .test_rollout import CTL, final, releaser, results, version

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

WINDOW = 6.0
RELEASE = {"staging_watch_s": WINDOW, "production_watch_s": 1.0}


def watch_started(log: EventLog) -> list[ActionRecorded]:
    return [a for a in log.of(ActionRecorded) if a.action == "releaser.watch" and a.status is ActionStatus.STARTED]


def decided(stage: DeploymentStage) -> Callable[[list[Any]], Any]:
    return final(stage, DeploymentOutcome.PROMOTED, DeploymentOutcome.ROLLED_BACK, DeploymentOutcome.FAILED)


async def stored(rt: Any, run_id: str) -> ReleaseRun:
    run = await RunStore(rt.store).get(run_id=run_id)
    assert run is not None
    return run


def same_store(target: Target) -> dict[str, Any]:
    """Settings overrides that make a restarted releaser use the store of the one before."""
    return {"store_url": f"sqlite+aiosqlite:///{target.repo.root / 'releaser.db'}"}


def error_line(kind: str, **extra: str) -> str:
    entry = {"ts": "2026-12-07T00:00:00Z", "level": "error", "msg": "request failed", "route": "/work",
             "error": {"type": kind, "message": "ledger out of sync", "stack": ""}, **extra}  # fmt: skip
    return json.dumps(entry) + "\n"


async def test_a_restart_longer_than_the_window_watches_the_unobserved_rest_before_promoting(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release=RELEASE)
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_restart", behaviour={"version": 2}, severity=Severity.P1)
    run_id = run_id_for(fix)
    async with EventLog(kafka_bootstrap, topics) as log, traffic(f"{target.staging.url}/work"):
        async with releaser(service_settings, target, **same_store(target)) as rt:
            await publish(kafka_bootstrap, topics, fix)
            await log.wait_for(lambda ev: watch_started(log), timeout=60)
            await asyncio.sleep(2.0)  # a few samples into the window
            before = (await stored(rt, run_id)).staging.watch
            await wait_settled(rt)  # stopped mid-rebalance, the embedded broker would never let the next one join
        assert not results(log, DeploymentStage.STAGING), "nothing decided before the crash"
        await asyncio.sleep(WINDOW + 2.0)  # down for longer than the whole window
        async with releaser(service_settings, target, **same_store(target)) as rt:
            done = await log.wait_for(decided(DeploymentStage.STAGING), timeout=60)
            after = (await stored(rt, run_id)).staging.watch
    assert done[0].outcome is DeploymentOutcome.PROMOTED
    # The decision was not made on the pre-crash samples alone: the watch went on after the restart.
    assert after.samples >= before.samples + 2, (before.samples, after.samples)
    assert after.observed_s >= WINDOW
    assert sum(end - start for start, end in after.unobserved) >= WINDOW - 2.0  # the downtime is not counted
    assert done[0].metrics_after["observed_s"] >= WINDOW
    resumed = [a for a in log.of(ActionRecorded) if a.action == "releaser.watch_resumed"]
    assert resumed and resumed[0].details["stage"] == "staging"


async def test_a_new_error_fingerprint_written_while_the_releaser_was_down_rolls_the_release_back(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release=RELEASE)
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_unseen", behaviour={"version": 2}, severity=Severity.P1)
    async with EventLog(kafka_bootstrap, topics) as log, traffic(f"{target.staging.url}/work"):
        async with releaser(service_settings, target, **same_store(target)) as rt:
            await publish(kafka_bootstrap, topics, fix)
            await log.wait_for(lambda ev: watch_started(log), timeout=60)
            await asyncio.sleep(2.0)
            await wait_settled(rt)
        # While nobody watches, the new deployment logs an error Medic has never seen (once, untagged).
        with target.staging.log.open("a") as fh:
            fh.write(error_line("LedgerDesync"))
        await asyncio.sleep(WINDOW + 2.0)
        async with releaser(service_settings, target, **same_store(target)):
            done = await log.wait_for(decided(DeploymentStage.STAGING), timeout=60)
            assert done[0].outcome is DeploymentOutcome.ROLLED_BACK, done[0].reason
            assert "new error fingerprints" in done[0].reason
            failed = {c.name for c in done[0].checks if not c.passed}
            assert "new_fingerprints" in failed
            assert target.repo.behaviour_on("staging")["version"] == 1  # the merge was reverted
            assert (await version(target.staging.url))["version"] == 1


async def test_a_pause_longer_than_the_window_does_not_promote_right_after_the_resume(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release=RELEASE)
    config = MedicConfig(autonomy_level=AutonomyLevel.FULL)
    await publish(kafka_bootstrap, topics, control_state(config))
    fix = fix_event(target.repo, issue_id="iss_paused", behaviour={"version": 2}, severity=Severity.P1)
    run_id = run_id_for(fix)
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target) as rt,
    ):
        await publish(kafka_bootstrap, topics, fix)
        await log.wait_for(lambda ev: watch_started(log), timeout=60)
        await asyncio.sleep(2.0)
        pause = ControlCommand(producer=CTL, command=CommandName.PAUSE, actor="alice", paused=True, reason="incident")
        await publish(kafka_bootstrap, topics, pause)
        await log.wait_for(lambda ev: rt.paused, timeout=10)
        await asyncio.sleep(0.5)  # a sample in flight when the pause landed has finished
        before = (await stored(rt, run_id)).staging.watch
        await asyncio.sleep(WINDOW + 2.0)
        assert not results(log, DeploymentStage.STAGING), "nothing decided while paused"
        resume = ControlCommand(producer=CTL, command=CommandName.RESUME, actor="alice", paused=False)
        await publish(kafka_bootstrap, topics, resume)
        done = await log.wait_for(decided(DeploymentStage.STAGING), timeout=60)
        after = (await stored(rt, run_id)).staging.watch
    assert done[0].outcome is DeploymentOutcome.PROMOTED
    assert after.samples >= before.samples + 2, (before.samples, after.samples)
    assert after.observed_s >= WINDOW
    assert sum(end - start for start, end in after.unobserved) >= WINDOW - 2.0


async def test_a_baseline_the_metrics_source_cannot_give_blocks_the_release_before_anything_is_merged(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release=RELEASE)
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    # Staging runs a build whose /metrics is gone before the fix arrives: there is no baseline to compare with.
    branch, sha, _ = target.repo.make_fix("metrics-off", {"version": 1, "metrics": False})
    deployer = build_deployer(
        load_releaser_target(load_target(target.toml)),
        forge=LocalForge(target.repo.remote, target.repo.root / "forge-work"),
        data_dir=target.state_dir,
    )
    await deployer.start(stage=DeploymentStage.STAGING, ref=branch, sha=sha, key="metrics-off")
    await wait_http(f"{target.staging.url}/health")
    staging_head = target.repo.head("staging")
    fix = fix_event(target.repo, issue_id="iss_nobaseline", behaviour={"version": 2}, severity=Severity.P1)
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target),
    ):
        await publish(kafka_bootstrap, topics, fix)
        done = await log.wait_for(decided(DeploymentStage.STAGING), timeout=60)
        assert done[0].outcome is DeploymentOutcome.FAILED, done[0].outcome
        assert "no baseline" in done[0].reason and "missing data counts as failing" in done[0].reason
        assert {c.name for c in done[0].checks if not c.passed} == {"error_rate", "latency"}
        assert not [a for a in log.of(ActionRecorded) if a.action in ("releaser.merge", "releaser.deploy")]
        assert target.repo.head("staging") == staging_head
        assert not results(log, DeploymentStage.PRODUCTION)
