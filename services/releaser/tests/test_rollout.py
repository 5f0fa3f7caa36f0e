"""Rollouts end to end in one process: real broker, real git remote, real app processes on free ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    AutonomyLevel,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DetectionReason,
    IssueDetected,
    IssueType,
    MedicConfig,
    Producer,
    Severity,
    TopicRegistry,
)
from medic_releaser.adapters.store import RunStore
from medic_releaser.app import build
from medic_releaser.domain.runs import ReleaseRun, RunStatus, run_id_for
from medic_releaser.settings import ReleaserSettings
from medic_runtime import ServiceRuntime

from .harness import EventLog, Target, control_state, fix_event, publish, traffic

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CTL = Producer(service="control-api", instance="ctl-1")
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@asynccontextmanager
async def releaser(service_settings: Callable[..., Any], target: Target, **overrides: Any) -> AsyncIterator[ServiceRuntime]:
    clock = overrides.pop("clock", None)
    overrides.setdefault("data_dir", target.repo.root / "releaser")
    settings = service_settings("releaser", cls=ReleaserSettings, target_file=target.toml, lease_ttl_s=5.0, **overrides)
    rt = build(settings, clock=(lambda: clock) if clock else None)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


def results(log: EventLog, stage: DeploymentStage | None = None) -> list[DeploymentResult]:
    return [e for e in log.of(DeploymentResult) if stage is None or e.stage is stage]


def final(stage: DeploymentStage, *outcomes: DeploymentOutcome) -> Callable[[list[Any]], Any]:
    def check(events: list[Any]) -> Any:
        return [e for e in events if isinstance(e, DeploymentResult) and e.stage is stage and e.outcome in outcomes]

    return check


async def version(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        data: dict[str, Any] = (await client.get(f"{url}/version")).json()
        return data


async def test_a_healthy_fix_is_promoted_through_staging_and_production_and_a_recurrence_reopens_it(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target()
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_ok", behaviour={"version": 2}, severity=Severity.P1)
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work", f"{target.production.url}/work"),
        releaser(service_settings, target),
    ):
        await publish(kafka_bootstrap, topics, fix)
        await log.wait_for(final(DeploymentStage.PRODUCTION, DeploymentOutcome.PROMOTED), timeout=60)
        assert (await version(target.production.url))["version"] == 2
        assert target.repo.behaviour_on("main")["version"] == 2
        staging = results(log, DeploymentStage.STAGING)
        assert [r.outcome for r in staging] == [DeploymentOutcome.PROMOTED]
        promoted = results(log, DeploymentStage.PRODUCTION)[-1]
        assert promoted.metrics_before and promoted.metrics_after["samples"] >= 1
        assert {c.name for c in promoted.checks} >= {"error_rate", "latency", "health", "new_fingerprints", "smoke"}
        assert all(c.passed for c in promoted.checks)
        gates = [a for a in log.of(ActionRecorded) if a.action == "releaser.gate"]
        assert len(gates) == 2 and all("proceed" in a.summary for a in gates)

        # After promotion the watcher sees the fixed issue again (an occurrence after the production deploy): reopen and revert.
        again = IssueDetected(
            producer=Producer(service="watcher", instance="w-1"), issue_id="iss_ok", target="shop", service="web",
            reason=DetectionReason.REGRESSED, severity=Severity.P1, issue_type=IssueType.API_ERROR,
            title=fix.issue.title, message=fix.issue.title, fingerprint=fix.issue.fingerprint,
            frequency={"count": 3, "window_seconds": 300}, first_seen=fix.occurred_at, last_seen=datetime.now(UTC),
            source="sentry",
        )  # fmt: skip
        await publish(kafka_bootstrap, topics, again)
        await log.wait_for(final(DeploymentStage.PRODUCTION, DeploymentOutcome.REOPENED), timeout=30)
        assert target.repo.behaviour_on("main")["version"] == 1
        assert target.repo.behaviour_on("staging")["version"] == 1
        assert (await version(target.production.url))["version"] == 1


TRIGGERS = {
    "error_rate": {"fail": True},
    "latency": {"latency_ms": 80},
    "health": {"health_status": 503},
    "new_fingerprints": {"log_error": "PaymentGatewayTimeout"},
    "metrics_source_down": {"metrics": False},
}


async def test_each_rollback_trigger_rolls_staging_back_to_the_previous_deployment_and_reverts_the_merge(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    # One releaser, one target, one bad fix per trigger in turn (each a different issue).
    target: Target = await make_target(release={"staging_watch_s": 4.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target) as rt,
    ):
        for trigger, behaviour in TRIGGERS.items():
            fix = fix_event(target.repo, issue_id=f"iss_{trigger}", behaviour={"version": 2, **behaviour})
            await publish(kafka_bootstrap, topics, fix)
            done = await log.wait_for(
                lambda ev, issue=fix.issue_id: [
                    e for e in ev if isinstance(e, DeploymentResult) and e.issue_id == issue
                    and e.outcome is DeploymentOutcome.ROLLED_BACK
                ],
                timeout=40,
            )  # fmt: skip
            result: DeploymentResult = done[0]
            assert result.stage is DeploymentStage.STAGING
            failed = {c.name for c in result.checks if not c.passed}
            expected = "error_rate" if trigger == "metrics_source_down" else trigger
            assert expected in failed, (trigger, failed, result.reason)
            if trigger == "metrics_source_down":
                assert "missing data" in result.reason
            assert result.metrics_before, trigger
            assert (await version(target.staging.url))["version"] == 1, trigger  # the previous deployment serves again
            assert target.repo.behaviour_on("staging")["version"] == 1, trigger  # the merge was reverted
            reverts = [a for a in log.of(ActionRecorded) if a.action == "releaser.revert" and a.issue_id == fix.issue_id]
            assert [a.status for a in reverts] == [ActionStatus.SUCCEEDED], trigger
        assert target.repo.behaviour_on("main")["version"] == 1  # production never saw any of them
        assert not results(log, DeploymentStage.PRODUCTION)

        # The rollback cap: an issue rolled back 3 times needs a human before its next release moves.
        capped = fix_event(target.repo, issue_id="iss_capped", behaviour={"version": 3})
        store = RunStore(rt.store)
        async with rt.store.transaction() as conn:
            for attempt in range(3):
                past = capped.model_copy(update={"attempt": attempt + 10})  # earlier attempts, rolled back
                run = ReleaseRun(run_id=run_id_for(past), issue_id="iss_capped", target="shop", fix=past,
                                 created_at=0.0, updated_at=0.0, status=RunStatus.ROLLED_BACK)  # fmt: skip
                await store.create(conn, run=run)
                await store.add_ledger(conn, run=run, stage="staging", kind="rollback")
        await publish(kafka_bootstrap, topics, capped)
        waiting = await log.wait_for(
            lambda ev: [e for e in ev if isinstance(e, ApprovalRequested) and e.issue_id == "iss_capped"]
        )
        assert "3 rollbacks for this issue: a human is required" in waiting[0].reason
        assert target.repo.behaviour_on("staging")["version"] == 1


async def test_level_one_waits_for_an_approval_bound_to_the_diff_and_a_rejection_stops_production(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target()
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.MONITOR)))
    fix = fix_event(target.repo, issue_id="iss_apr", behaviour={"version": 2})
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target, clock=TUESDAY_NOON),
    ):
        await publish(kafka_bootstrap, topics, fix)
        requests = await log.wait_for(lambda ev: [e for e in ev if isinstance(e, ApprovalRequested)])
        request: ApprovalRequested = requests[0]
        assert request.diff_hash == fix.diff_hash and "level 1" in request.reason
        await log.wait_for(final(DeploymentStage.STAGING, DeploymentOutcome.AWAITING_APPROVAL))
        await asyncio.sleep(1.0)
        assert target.repo.behaviour_on("staging")["version"] == 1  # nothing moved while waiting

        wrong = ControlCommand(producer=CTL, command=CommandName.APPROVE, actor="mallory", approval_id=request.approval_id,
                               diff_hash="sha256:other")  # fmt: skip
        await publish(kafka_bootstrap, topics, wrong)
        await log.wait_for(
            lambda ev: [e for e in ev if isinstance(e, ActionRecorded) and e.action == "releaser.approval"
                        and e.status is ActionStatus.REFUSED and "bound to diff" in e.summary]
        )  # fmt: skip
        right = wrong.model_copy(update={"actor": "alice", "diff_hash": fix.diff_hash, "event_id": "approve-1"})
        await publish(kafka_bootstrap, topics, right)
        await log.wait_for(final(DeploymentStage.STAGING, DeploymentOutcome.PROMOTED), timeout=40)
        assert target.repo.behaviour_on("staging")["version"] == 2

        second = await log.wait_for(lambda ev: [e for e in ev if isinstance(e, ApprovalRequested)][1:], timeout=20)
        reject = ControlCommand(producer=CTL, command=CommandName.REJECT, actor="bob", reason="not today",
                                approval_id=second[0].approval_id)  # fmt: skip
        await publish(kafka_bootstrap, topics, reject)
        blocked = await log.wait_for(final(DeploymentStage.PRODUCTION, DeploymentOutcome.BLOCKED))
        assert "rejected by bob" in blocked[0].reason
        assert target.repo.behaviour_on("main")["version"] == 1
        # Staging ran the rejected fix: it is undone, so a later staging → main merge cannot carry it.
        undone = await log.wait_for(final(DeploymentStage.STAGING, DeploymentOutcome.ROLLED_BACK), timeout=30)
        assert "bob" in undone[0].reason
        assert target.repo.behaviour_on("staging")["version"] == 1


async def test_pause_holds_a_release_and_business_hours_block_production_with_the_reason_recorded(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target()
    config = MedicConfig(autonomy_level=AutonomyLevel.AUTO_LOW_RISK)
    await publish(kafka_bootstrap, topics, control_state(config, paused=True, reason="incident review"))
    fix = fix_event(target.repo, issue_id="iss_hours", behaviour={"version": 2}, severity=Severity.P3)
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work"),
        releaser(service_settings, target, clock=SATURDAY_NOON),
    ):
        await publish(kafka_bootstrap, topics, fix)
        held = await log.wait_for(
            lambda ev: [e for e in ev if isinstance(e, ActionRecorded) and e.action == "releaser.gate"
                        and e.status is ActionStatus.REFUSED]
        )  # fmt: skip
        assert "incident review" in held[0].summary
        await asyncio.sleep(1.5)
        assert not [a for a in log.of(ActionRecorded) if a.action in ("releaser.merge", "releaser.deploy")]
        assert target.repo.behaviour_on("staging")["version"] == 1  # paused: nothing moved

        resume = ControlCommand(producer=CTL, command=CommandName.RESUME, actor="alice", paused=False)
        await publish(kafka_bootstrap, topics, resume)
        await log.wait_for(final(DeploymentStage.STAGING, DeploymentOutcome.PROMOTED), timeout=40)
        blocked = await log.wait_for(final(DeploymentStage.PRODUCTION, DeploymentOutcome.BLOCKED), timeout=20)
        assert "working days" in blocked[0].reason
        refusals = [a for a in log.of(ActionRecorded) if a.action == "releaser.gate" and "working days" in a.summary]
        assert refusals and refusals[0].details["retry_at"] == "2026-11-30T09:00:00+00:00"
        assert target.repo.behaviour_on("main")["version"] == 1

        # A human rolls the waiting release back: staging (the only stage running the fix) is undone.
        rollback = ControlCommand(producer=CTL, command=CommandName.ROLLBACK, actor="carol", issue_id="iss_hours")
        await publish(kafka_bootstrap, topics, rollback)
        undone = await log.wait_for(final(DeploymentStage.STAGING, DeploymentOutcome.ROLLED_BACK), timeout=30)
        assert "manual rollback by carol" in undone[0].reason
        assert target.repo.behaviour_on("staging")["version"] == 1
        assert (await version(target.staging.url))["version"] == 1


async def test_a_severity_raised_before_the_fix_arrives_gates_the_release_as_the_issue_is_now(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    # The fix was written for a P3 (outside business hours on a Saturday it would wait for Monday);
    # meanwhile the watcher raised the issue to P1: the release goes through now, as a P1.
    target: Target = await make_target()
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_louder", behaviour={"version": 2}, severity=Severity.P3)
    now = datetime.now(UTC)
    louder = IssueDetected(
        producer=Producer(service="watcher", instance="w-1"), issue_id="iss_louder", target="shop", service="web",
        reason=DetectionReason.SEVERITY_RAISED, severity=Severity.P1, issue_type=IssueType.API_ERROR,
        title=fix.issue.title, message=fix.issue.title, fingerprint=fix.issue.fingerprint, affected_users=40,
        frequency={"count": 90, "window_seconds": 300}, first_seen=now, last_seen=now, source="sentry",
    )  # fmt: skip
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work", f"{target.production.url}/work"),
        releaser(service_settings, target, clock=SATURDAY_NOON),
    ):
        await publish(kafka_bootstrap, topics, louder)
        await asyncio.sleep(1.0)  # the releaser has seen the watcher's news before the fix arrives
        await publish(kafka_bootstrap, topics, fix)
        promoted = await log.wait_for(final(DeploymentStage.PRODUCTION, DeploymentOutcome.PROMOTED), timeout=60)
        assert promoted[0].issue.severity is Severity.P1 and promoted[0].issue.affected_users == 40
        assert target.repo.behaviour_on("main")["version"] == 2
        assert not [r for r in log.of(DeploymentResult) if r.outcome is DeploymentOutcome.BLOCKED]


async def test_a_production_failure_rolls_production_back_and_reverts_main_and_staging(
    make_target: Callable[..., Any], service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    target: Target = await make_target(release={"production_watch_s": 4.0})
    await publish(kafka_bootstrap, topics, control_state(MedicConfig(autonomy_level=AutonomyLevel.FULL)))
    fix = fix_event(target.repo, issue_id="iss_prod", behaviour={"version": 2, "fail_in": "production"},
                    severity=Severity.P1)  # fmt: skip
    async with (
        EventLog(kafka_bootstrap, topics) as log,
        traffic(f"{target.staging.url}/work", f"{target.production.url}/work"),
        releaser(service_settings, target),
    ):
        await publish(kafka_bootstrap, topics, fix)
        done = await log.wait_for(final(DeploymentStage.PRODUCTION, DeploymentOutcome.ROLLED_BACK), timeout=60)
        assert [r.outcome for r in results(log, DeploymentStage.STAGING)] == [DeploymentOutcome.PROMOTED]
        assert "error_rate" in {c.name for c in done[0].checks if not c.passed}
        assert done[0].metrics_after["error_rate"] > done[0].metrics_before["error_rate"]
        assert (await version(target.production.url))["version"] == 1
        assert target.repo.behaviour_on("main")["version"] == 1
        assert target.repo.behaviour_on("staging")["version"] == 1
        redeploys = [a for a in log.of(ActionRecorded) if a.action == "releaser.redeploy"]
        assert len(redeploys) == 1 and redeploys[0].status is ActionStatus.SUCCEEDED
