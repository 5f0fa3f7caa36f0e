"""Kill switch, state snapshots, config changes and approvals, as other services see them on the broker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from medic_contracts import CommandName, ControlCommand, TopicName, TopicRegistry
from medic_runtime import ServiceRuntime, ServiceSettings
from medic_testing.runtime.topics import read_topic

from .conftest import StartControl, approval_request, eventually, lifecycle, seed

pytestmark = pytest.mark.kafka


def commands(events: list[Any], name: CommandName) -> list[ControlCommand]:
    return [e for e in events if isinstance(e, ControlCommand) and e.command is name]


async def test_pause_and_resume_reach_another_service_and_are_audited(
    store_url: str, start_control: StartControl, service_settings: Callable[..., ServiceSettings]
) -> None:
    control = await start_control(store_url)
    watcher = ServiceRuntime(service_settings("watcher"))
    await watcher.start()
    try:
        await eventually(lambda: watcher.config() is not None)  # the start-up state_snapshot carried a config
        assert not watcher.paused
        async with control.client("operator") as client:
            response = await client.post("/api/v1/control/pause", json={"reason": "incident 42"})
            assert response.status_code == 200 and response.json()["paused"] is True
            await eventually(lambda: watcher.paused, timeout=10)
            assert "incident 42" in watcher.control.pause_reason
            state = (await client.get("/api/v1/control/state")).json()
            assert state["paused"] is True and state["reason"] == "incident 42" and state["config"]["version"] == 1
            await client.post("/api/v1/control/resume", json={"reason": "over"})
            await eventually(lambda: not watcher.paused, timeout=10)
            trail = (await client.get("/api/v1/actions", params={"action": "control"})).json()["items"]
        assert [(a["action"], a["actor"]) for a in trail] == [
            ("control.resume", "operator-user"),
            ("control.pause", "operator-user"),
        ]
    finally:
        await watcher.stop()


async def test_state_snapshots_carry_the_paused_flag_and_full_config(
    store_url: str, start_control: StartControl, kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    control = await start_control(store_url, snapshot_interval_s=0.5)
    async with control.client("operator") as client:
        await client.post("/api/v1/control/pause", json={"reason": "maintenance"})
    events = await read_topic(
        kafka_bootstrap,
        topics.name(TopicName.CONTROL),
        until=lambda evs: any(s.paused for s in commands(evs, CommandName.STATE_SNAPSHOT)),
    )
    snapshots = commands(events, CommandName.STATE_SNAPSHOT)
    assert snapshots and snapshots[0].paused is False  # published at start-up
    latest = snapshots[-1]
    assert latest.paused is True and latest.reason == "maintenance"
    assert latest.config is not None and latest.config["version"] == 1 == latest.config_version
    assert latest.config["caps"]["deploys_per_day"] == 10


async def test_config_put_publishes_config_changed_and_services_adopt_it(
    store_url: str, start_control: StartControl, service_settings: Callable[..., ServiceSettings]
) -> None:
    control = await start_control(store_url)
    implementer = ServiceRuntime(service_settings("implementer"))
    await implementer.start()
    try:
        async with control.client("admin") as admin:
            current = (await admin.get("/api/v1/config")).json()
            config = {**current["config"], "caps": {**current["config"]["caps"], "deploys_per_day": 4}, "autonomy_level": 1}
            saved = await admin.put("/api/v1/config", json={"config": config, "expected_version": 1, "reason": "freeze"})
            assert saved.status_code == 200 and saved.json()["version"] == 2
            stale = await admin.put("/api/v1/config", json={"config": config, "expected_version": 1})
            assert stale.status_code == 409
            invalid = await admin.put(
                "/api/v1/config", json={"config": {**config, "business_hours": {"start": "18:00:00", "end": "09:00:00"}}}
            )
            assert invalid.status_code == 422 and "business_hours" in str(invalid.json()["error"]["fields"])
            trail = (await admin.get("/api/v1/actions", params={"action": "control.config_changed"})).json()["items"]
        await eventually(lambda: (c := implementer.config()) is not None and c.version == 2, timeout=10)
        adopted = implementer.config()
        assert adopted is not None and adopted.caps.deploys_per_day == 4 and int(adopted.autonomy_level) == 1
        assert (
            len(trail) == 1 and trail[0]["details"]["changed"] == ["autonomy_level", "caps"] and trail[0]["actor"] == "admin-user"
        )
    finally:
        await implementer.stop()


async def test_level_3_is_refused_without_30_good_days_and_an_admin_override_is_audited(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url)
    async with control.client("admin") as admin:
        current = (await admin.get("/api/v1/config")).json()
        full = {**current["config"], "autonomy_level": 3}
        refused = await admin.put("/api/v1/config", json={"config": full})
        check = (await admin.get("/api/v1/config/level3")).json()
        overridden = await admin.put(
            "/api/v1/config", json={"config": full, "reason": "pilot", "override_reason": "CTO approved the pilot on INC-7"}
        )
        trail = (await admin.get("/api/v1/actions", params={"action": "control.config_changed"})).json()["items"]
    assert refused.status_code == 422 and "level 3 refused" in refused.json()["error"]["message"]
    assert not check["eligible"] and any("30 days" in u for u in check["unmet"])
    assert overridden.status_code == 200 and overridden.json()["config"]["autonomy_level"] == 3
    assert overridden.json()["override_reason"] == "CTO approved the pilot on INC-7"
    assert trail[0]["details"]["level3_override"]["reason"] == "CTO approved the pilot on INC-7"
    assert "overridden" in trail[0]["summary"]


async def test_level_3_is_allowed_after_30_days_at_level_2_with_good_deployments(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url)
    from sqlalchemy import update

    from medic_contracts import utcnow
    from medic_control.config.models import ConfigVersion

    async with control.runtime.store.transaction() as conn:  # version 1 (level 2) has been in force for 31 days
        await conn.execute(update(ConfigVersion).values(created_at=utcnow() - timedelta(days=31)))
    await seed(control, lifecycle("iss_good_1") + lifecycle("iss_good_2"))
    async with control.client("admin") as admin:
        check = (await admin.get("/api/v1/config/level3")).json()
        current = (await admin.get("/api/v1/config")).json()
        allowed = await admin.put("/api/v1/config", json={"config": {**current["config"], "autonomy_level": 3}})
    assert check["eligible"] and check["production_deployments"] == 2 and check["success_rate"] == 1.0
    assert allowed.status_code == 200 and allowed.json()["override_reason"] is None


async def test_approval_refusals_replay_other_diff_self_approval_and_expiry(
    store_url: str, start_control: StartControl, kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    control = await start_control(store_url)
    # three issues: a newer request for the same issue and step would supersede the older one
    good = approval_request("iss_a")
    own = approval_request("iss_b", requested_by="operator-user")
    expired = approval_request("iss_c", expires_in=timedelta(seconds=-1))
    await seed(control, [good, own, expired])
    async with control.client("operator") as op:
        pending = (await op.get("/api/v1/approvals", params={"status": "pending"})).json()["items"]
        wrong_diff = await op.post(f"/api/v1/approvals/{good.approval_id}/approve", json={"diff_hash": "sha256:" + "0" * 64})
        approved = await op.post(
            f"/api/v1/approvals/{good.approval_id}/approve", json={"diff_hash": good.diff_hash, "reason": "lgtm"}
        )
        replay = await op.post(f"/api/v1/approvals/{good.approval_id}/approve", json={"diff_hash": good.diff_hash})
        reject_after = await op.post(f"/api/v1/approvals/{good.approval_id}/reject", json={})
        self_approval = await op.post(f"/api/v1/approvals/{own.approval_id}/approve", json={"diff_hash": own.diff_hash})
        too_late = await op.post(f"/api/v1/approvals/{expired.approval_id}/approve", json={"diff_hash": expired.diff_hash})
        unknown = await op.post("/api/v1/approvals/apr_nope/approve", json={"diff_hash": "x"})
        listed_expired = (await op.get("/api/v1/approvals", params={"status": "expired"})).json()["items"]
    async with control.client("operator2") as other:
        by_someone_else = await other.post(f"/api/v1/approvals/{own.approval_id}/approve", json={"diff_hash": own.diff_hash})
    assert {a["id"] for a in pending} == {good.approval_id, own.approval_id}
    assert wrong_diff.status_code == 409 and "diff hash" in wrong_diff.json()["error"]["message"]
    assert (
        approved.status_code == 200
        and approved.json()["status"] == "approved"
        and approved.json()["decided_by"] == "operator-user"
    )
    assert replay.status_code == 409 and reject_after.status_code == 409
    assert self_approval.status_code == 403
    assert too_late.status_code == 410
    assert unknown.status_code == 404
    assert [a["id"] for a in listed_expired] == [expired.approval_id]
    assert by_someone_else.status_code == 200

    events = await read_topic(
        kafka_bootstrap, topics.name(TopicName.CONTROL), until=lambda evs: len(commands(evs, CommandName.APPROVE)) >= 2
    )
    decisions = {c.approval_id: c for c in commands(events, CommandName.APPROVE)}
    assert set(decisions) == {good.approval_id, own.approval_id}
    decision = decisions[good.approval_id]
    assert decision.diff_hash == good.diff_hash and decision.issue_id == "iss_a" and decision.actor == "operator-user"
    assert decision.approval_kind is not None and decision.approval_kind.value == "fix"


async def test_rollback_and_scan_are_published_as_commands(
    store_url: str, start_control: StartControl, kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    control = await start_control(store_url)
    await seed(control, lifecycle("iss_rb"))
    await seed(control, lifecycle("iss_undeployed")[:3])
    async with control.client("operator") as op:
        rolled = await op.post("/api/v1/issues/iss_rb/rollback", json={"reason": "latency doubled"})
        nothing = await op.post("/api/v1/issues/iss_undeployed/rollback", json={})
        scanned = await op.post("/api/v1/control/scan", json={"target": "shop", "reason": "deploy just landed"})
    assert rolled.status_code == 200 and nothing.status_code == 409 and scanned.status_code == 200
    events = await read_topic(
        kafka_bootstrap,
        topics.name(TopicName.CONTROL),
        until=lambda evs: bool(commands(evs, CommandName.ROLLBACK) and commands(evs, CommandName.SCAN)),
    )
    rollback = commands(events, CommandName.ROLLBACK)[0]
    assert rollback.issue_id == "iss_rb" and rollback.reason == "latency doubled" and rollback.target == "shop"
    assert commands(events, CommandName.SCAN)[0].target == "shop"
