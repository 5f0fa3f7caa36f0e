"""Durability: a releaser killed mid-watch resumes with the remaining time; only the lease holder acts."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
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
    load_target,
)
from medic_forge import LocalForge
from medic_releaser.adapters.store import RunStore
from medic_releaser.app import build, build_deployer
from medic_releaser.config import load_releaser_target
from medic_releaser.domain.analysis import Baseline
from medic_releaser.domain.runs import Phase, ReleaseRun, StageState, run_id_for
from medic_releaser.domain.watch import max_gap_for
from medic_releaser.settings import ReleaserSettings
from medic_testing.runtime.plugin import test_env as make_env
from medic_testing.runtime.processes import ServiceProcess

from .harness import EventLog, Target, control_state, fix_event, publish, traffic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def releaser_process(env: dict[str, str], log_dir: Path, instance: str) -> ServiceProcess:
    return ServiceProcess.console_script(instance, "medic-releaser", env={**env, "MEDIC_INSTANCE_ID": instance}, log_dir=log_dir)


def staging_results(log: EventLog) -> list[DeploymentResult]:
    return [e for e in log.of(DeploymentResult) if e.stage is DeploymentStage.STAGING]


def actions(log: EventLog, name: str, status: ActionStatus | None = None) -> list[ActionRecorded]:
    return [a for a in log.of(ActionRecorded) if a.action == name and (status is None or a.status is status)]


@pytest.mark.e2e
async def test_a_releaser_killed_during_the_staging_watch_finishes_it_with_the_remaining_time_and_decides_once(
    make_target: Callable[..., Any], kafka_bootstrap: str, topic_prefix: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    # A long window: a restart on a loaded 2-core machine can take many seconds (imports alone).
    target: Target = await make_target(release={"staging_watch_s": 20.0, "production_watch_s": 1.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    env = make_env(kafka_bootstrap, topic_prefix, tmp_path / "releaser-data", MEDIC_TARGET_FILE=str(target.toml),
                   MEDIC_LEASE_TTL_S="2", MEDIC_LOG_FORMAT="text")  # fmt: skip
    fix = fix_event(target.repo, issue_id="iss_kill", behaviour={"version": 2}, severity=Severity.P1)
    first = releaser_process(env, tmp_path, "releaser-a").start()
    second = releaser_process(env, tmp_path, "releaser-b")
    try:
        async with EventLog(kafka_bootstrap, topics) as log, traffic(f"{target.staging.url}/work"):
            await publish(kafka_bootstrap, topics, fix)
            started = await log.wait_for(lambda ev: actions(log, "releaser.watch", ActionStatus.STARTED), timeout=90)
            watch_until = float(started[0].details["watch_until"])  # type: ignore[arg-type]
            await asyncio.sleep(2.5)  # well inside the watch, after a few samples
            await asyncio.to_thread(first.kill)
            killed_at = time.time()
            assert not staging_results(log), "no decision before the kill"
            second.start()
            await asyncio.to_thread(second.wait_healthy, 90.0)
            ready_at = time.time()
            done = await log.wait_for(
                lambda ev: [r for r in staging_results(log) if r.outcome is DeploymentOutcome.PROMOTED], timeout=60
            )
            await asyncio.sleep(2.0)  # a duplicate decision would show up here
            decided_at = done[0].occurred_at.timestamp()
            assert len(staging_results(log)) == 1, [r.outcome for r in staging_results(log)]
            # It never cut the window short, and the time it was down did not count: after the restart it
            # watched what was left of the window (20 s minus what it had observed before the kill).
            assert decided_at >= watch_until
            observed_before = killed_at - (watch_until - 20.0)
            assert decided_at >= ready_at + (20.0 - observed_before - max_gap_for(0.25)) - 1.0, decided_at - ready_at
            assert done[0].metrics_after["observed_s"] >= 20.0
            staging = [a for a in log.of(ActionRecorded) if a.details.get("stage") == "staging"]
            assert len([a for a in staging if a.action == "releaser.watch" and a.status is ActionStatus.STARTED]) == 1
            assert len([a for a in staging if a.action == "releaser.deploy" and a.status is ActionStatus.STARTED]) == 1
            decided = [a for a in staging if a.action == "releaser.watch" and a.status is ActionStatus.SUCCEEDED]
            assert [a.producer.instance for a in decided] == ["releaser-b"]
    finally:
        await asyncio.to_thread(first.stop)
        await asyncio.to_thread(second.stop)


@pytest.mark.postgres
async def test_two_instances_share_a_store_and_only_the_lease_holder_acts(
    make_target: Callable[..., Any],
    service_settings: Callable[..., Any],
    kafka_bootstrap: str,
    topics: TopicRegistry,
    fresh_postgres_url: str,
) -> None:
    # Long enough for b to take over inside the window: lease (5 s) and work-item lease (5 s) must lapse first.
    target: Target = await make_target(release={"staging_watch_s": 15.0, "production_watch_s": 1.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))

    def settings(name: str) -> ReleaserSettings:
        built: ReleaserSettings = service_settings(
            "releaser", cls=ReleaserSettings, target_file=target.toml, lease_ttl_s=5.0, store_url=fresh_postgres_url,
            instance_id=name, data_dir=target.repo.root / name,
        )  # fmt: skip
        return built

    a, b = build(settings("releaser-a")), build(settings("releaser-b"))
    # releaser-a holds the target's lease; b runs alone first, so b certainly meets the run.
    await b.start()
    a_started = a_stopped = False
    try:
        assert await RunStore(b.store).acquire_lease(target="shop", holder="releaser-a", ttl_s=60.0)
        fix = fix_event(target.repo, issue_id="iss_lease", behaviour={"version": 2}, severity=Severity.P1)
        async with EventLog(kafka_bootstrap, topics) as log, traffic(f"{target.staging.url}/work"):
            await publish(kafka_bootstrap, topics, fix)
            await log.wait_for(lambda ev: actions(log, "releaser.accepted"), timeout=60)

            def stood_back() -> float:
                value: float = b.metrics.work_done.labels(b.metrics.service, "release", "later")._value.get()
                return value

            await log.wait_for(lambda ev: stood_back() >= 2, timeout=30)
            assert [a.action for a in log.of(ActionRecorded)] == ["releaser.accepted"], "b did nothing without the lease"

            await a.start()
            a_started = True
            await log.wait_for(lambda ev: actions(log, "releaser.watch", ActionStatus.STARTED), timeout=60)
            acting = {e.producer.instance for e in log.of(ActionRecorded) if e.action != "releaser.accepted"}
            assert acting == {"releaser-a"}

            # The holder goes away mid-watch: its lease lapses and b carries the same run to its one decision.
            await asyncio.sleep(1.5)
            await a.stop()
            a_stopped = True
            done = await log.wait_for(
                lambda ev: [r for r in staging_results(log) if r.outcome is DeploymentOutcome.PROMOTED], timeout=90
            )
            assert done[0].producer.instance == "releaser-b"
            assert len(staging_results(log)) == 1
    finally:
        if a_started and not a_stopped:
            await a.stop()
        await b.stop()
    assert os.environ.get("MEDIC_TARGET_FILE") is None  # nothing leaked into this process's environment


async def test_an_ambiguous_deploy_is_reconciled_against_the_deployer_before_anything_else(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    # The releaser recorded "deploy started" and asked the deployer, then died before recording the answer.
    target: Target = await make_target(release={"staging_watch_s": 1.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_ambiguous", behaviour={"version": 2}, severity=Severity.P1)
    run_id = run_id_for(fix)
    key = f"{run_id}:staging"
    rt = build(service_settings("releaser", cls=ReleaserSettings, target_file=target.toml, lease_ttl_s=5.0,
                                data_dir=target.repo.root / "releaser"))  # fmt: skip
    deployer = build_deployer(
        load_releaser_target(load_target(target.toml)),
        forge=LocalForge(target.repo.remote, target.repo.root / "forge-work"),
        data_dir=target.state_dir,
    )
    previous = await deployer.current(stage=DeploymentStage.STAGING)
    started = await deployer.start(stage=DeploymentStage.STAGING, ref="staging", sha=fix.commit_sha, key=key)
    now = time.time()
    run = ReleaseRun(
        run_id=run_id, issue_id=fix.issue_id, target="shop", fix=fix, phase=Phase.DEPLOY, created_at=now, updated_at=now,
        staging=StageState(deploy_key=key, deploy_started_at=now, previous=previous, merge_sha=fix.commit_sha,
                           baseline=Baseline(error_rate=0.0)),
    )  # fmt: skip
    await rt.start()
    try:
        async with EventLog(kafka_bootstrap, topics) as log, traffic(f"{target.staging.url}/work"):
            async with rt.store.transaction() as conn:
                await RunStore(rt.store).create(conn, run=run)
                await rt.work.enqueue(conn, kind="release", dedup_key=f"release:{run_id}", payload={"run_id": run_id})
            await log.wait_for(lambda ev: staging_results(log), timeout=60)
            reconciled = actions(log, "releaser.reconcile", ActionStatus.SUCCEEDED)
            assert len(reconciled) == 1 and reconciled[0].details["deployment"] == started.id
            assert staging_results(log)[0].deployment_id == started.id
            history = json.loads((target.state_dir / "staging.json").read_text())
            keys = [e["key"] for e in [*history["history"], history["current"]] if e]
            assert keys.count(key) == 1  # adopted, never deployed twice
    finally:
        await rt.stop()
