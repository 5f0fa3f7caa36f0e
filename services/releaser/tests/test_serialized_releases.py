"""One release at a time per target and stage (a lease in the store), and a rollback goes back to what ran before the merge."""

from __future__ import annotations

import asyncio
import json
import time
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
    DeploymentResult,
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
from medic_releaser.domain.analysis import Baseline
from medic_releaser.domain.runs import Phase, ReleaseRun, StageState, run_id_for

from .harness import EventLog, Target, control_state, fix_event, git, publish, traffic, wait_http
from .test_rollout import CTL, final, releaser, results, version

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

STAGING = DeploymentStage.STAGING


def run_actions(log: EventLog, run_id: str, action: str) -> list[ActionRecorded]:
    return [a for a in log.of(ActionRecorded) if a.action == action and a.details.get("run_id") == run_id]


def run_results(log: EventLog, run_id: str) -> list[DeploymentResult]:
    return [r for r in log.of(DeploymentResult) if r.run_id == run_id]


async def test_two_fixes_at_the_gate_together_are_released_one_after_the_other(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release={"staging_watch_s": 2.0, "production_watch_s": 1.0})
    config = MedicConfig(autonomy_level=AutonomyLevel.FULL)
    # Paused while both arrive: on resume both runs stand at the staging gate at once (the reported race).
    await publish(kafka_bootstrap, topics, control_state(config, paused=True, reason="change freeze"))
    one = fix_event(target.repo, issue_id="iss_one", behaviour={"version": 2}, severity=Severity.P1, fingerprint="fp-one")
    # The second fix touches another file: both merge cleanly whatever order they go in.
    two = fix_event(target.repo, issue_id="iss_two", behaviour=None, files={"notes.txt": "two\n"}, severity=Severity.P1,
                    fingerprint="fp-two")  # fmt: skip
    ids = {run_id_for(one), run_id_for(two)}
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work", f"{target.production.url}/work"),
        releaser(service_settings, target, release_concurrency=2),
    ):
        await publish(kafka_bootstrap, topics, one, two)
        await log.wait_for(lambda ev: len([a for a in log.of(ActionRecorded) if a.action == "releaser.accepted"]) == 2)
        await publish(kafka_bootstrap, topics, ControlCommand(producer=CTL, command=CommandName.RESUME, actor="alice"))

        def both_done(events: list[Any]) -> bool:
            done = {r.run_id for r in log.of(DeploymentResult) if r.stage is DeploymentStage.PRODUCTION}
            return done >= ids

        await log.wait_for(both_done, timeout=120)
        merges = sorted((a.occurred_at, a.details["run_id"]) for a in log.of(ActionRecorded) if a.action == "releaser.merge")
        first, second = merges[0][1], next(r for _, r in merges if r != merges[0][1])
        first_done = max(r.occurred_at for r in run_results(log, first) if r.stage is DeploymentStage.PRODUCTION)
        # The second run's gate, merge and deploy all came after the first run's last decision.
        for action in ("releaser.gate", "releaser.merge", "releaser.deploy"):
            taken = [a.occurred_at for a in run_actions(log, second, action) if a.status is not ActionStatus.REFUSED]
            assert taken and min(taken) >= first_done, (action, taken, first_done)
        outcomes = {(r.run_id, r.stage): r.outcome for r in log.of(DeploymentResult) if r.run_id in ids}
        assert set(outcomes.values()) == {DeploymentOutcome.PROMOTED}, outcomes
        assert target.repo.behaviour_on("main")["version"] == 2
        assert git("show", "main:notes.txt", cwd=target.repo.remote) == "two"


async def test_a_crashed_holders_stage_lease_holds_the_next_release_until_it_lapses(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release={"staging_watch_s": 1.0, "production_watch_s": 1.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_after_crash", behaviour={"version": 2}, severity=Severity.P1)
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target) as rt,
    ):
        # A run on an instance that died holds staging: nobody renews its lease any more.
        ttl = 6.0
        assert await RunStore(rt.store).acquire_slot(
            target="shop", stage="staging", run_id="rel_crashed", instance="releaser-dead", ttl_s=ttl
        )
        lapses_at = time.time() + ttl
        await publish(kafka_bootstrap, topics, fix)
        await log.wait_for(lambda ev: [a for a in log.of(ActionRecorded) if a.action == "releaser.accepted"], timeout=30)
        await asyncio.sleep(2.0)
        assert not [a for a in log.of(ActionRecorded) if a.action == "releaser.gate"], "the next release waits for the lease"
        done = await log.wait_for(final(STAGING, DeploymentOutcome.PROMOTED), timeout=60)
        gate = [a for a in log.of(ActionRecorded) if a.action == "releaser.gate"]
        assert gate and gate[0].occurred_at.timestamp() >= lapses_at - 0.5
        assert done[0].run_id == run_id_for(fix)
        assert await RunStore(rt.store).slot_holder(target="shop", stage="staging") in (run_id_for(fix), None)


async def test_a_rollback_redeploys_the_release_that_served_before_its_own_merge(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release={"staging_watch_s": 3.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    forge = LocalForge(target.repo.remote, target.repo.root / "forge-work")
    deployer = build_deployer(load_releaser_target(load_target(target.toml)), forge=forge, data_dir=target.state_dir)
    before_merge = await deployer.current(stage=STAGING)
    assert before_merge is not None
    fix = fix_event(target.repo, issue_id="iss_premerge", behaviour={"version": 3, "fail": True}, severity=Severity.P1)
    pre_merge_sha = await forge.branch_head(branch="staging")
    merged = await forge.merge_branch(source=fix.branch, target="staging", message="Medic: merge fix for iss_premerge")
    # The run merged and then died; meanwhile something else was deployed to staging (another run, a human).
    branch, sha, _ = target.repo.make_fix("intruder", {"version": 7})
    await deployer.start(stage=STAGING, ref=branch, sha=sha, key="intruder")
    await wait_http(f"{target.staging.url}/health")
    assert (await version(target.staging.url))["version"] == 7
    run_id = run_id_for(fix)
    now = time.time()
    run = ReleaseRun(
        run_id=run_id, issue_id=fix.issue_id, target="shop", fix=fix, phase=Phase.DEPLOY, created_at=now, updated_at=now,
        staging=StageState(baseline=Baseline(error_rate=0.0, latency_ms=10.0), pre_merge_sha=pre_merge_sha,
                           merge_sha=merged, pre_merge_release=before_merge),
    )  # fmt: skip
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target) as rt,
    ):
        async with rt.store.transaction() as conn:
            await RunStore(rt.store).create(conn, run=run)
            await rt.work.enqueue(conn, kind="release", dedup_key=f"release:{run_id}", payload={"run_id": run_id})
        done = await log.wait_for(final(STAGING, DeploymentOutcome.ROLLED_BACK), timeout=60)
        assert done[0].run_id == run_id
        redeploy = run_actions(log, run_id, "releaser.redeploy")
        assert redeploy and redeploy[0].status is ActionStatus.SUCCEEDED
        assert (await version(target.staging.url))["version"] == 1  # what served before the merge, not the intruder
        history = json.loads((target.state_dir / "staging.json").read_text())
        assert history["current"]["id"] == redeploy[0].details["deployment"]
        assert history["current"]["sha"] == before_merge.sha != sha
        assert target.repo.behaviour_on("staging")["version"] == 1  # the merge was reverted
        assert not results(log, DeploymentStage.PRODUCTION)
