"""The projector: events become one issue with its timeline, idempotently, never moving backwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    CommandName,
    ControlCommand,
    DeadLetter,
    DeploymentOutcome,
    DeploymentResult,
    DetectionReason,
    Envelope,
    IssueDetected,
    TopicRegistry,
)
from medic_control.actions import service as audit
from medic_control.actions.models import Action
from medic_control.approvals.models import Approval
from medic_control.db import migrate
from medic_control.dlq.models import DeadLetterRow
from medic_control.issues import service as issues
from medic_control.issues.models import Issue
from medic_control.projector import Delivered, project
from medic_runtime.bus import HEADER_REPLAY_OF
from medic_runtime.store import ServiceStore

from .conftest import RELEASER, WATCHER, StartControl, approval_request, eventually, lifecycle, publish


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[ServiceStore]:
    store = ServiceStore(store_url, service="control-api")
    await migrate(store.engine, schema=store.schema)
    yield store
    await store.close()


async def run(store: ServiceStore, events: list[Envelope], *, replay: bool = False) -> None:
    async with store.transaction() as conn:
        batch = [Delivered(e.with_fresh_id(), e.event_id) if replay else Delivered(e) for e in events]
        await project(conn, batch)


async def snapshot(store: ServiceStore) -> tuple[list[dict[str, object]], int, str]:
    async with store.engine.connect() as conn:
        rows = [dict(r) for r in (await conn.execute(select(Issue).order_by(Issue.id))).mappings()]
        count = (await conn.execute(select(func.count()).select_from(Action))).scalar_one()
        _, head = await audit.head(conn)
    for row in rows:
        row.pop("updated_at")
    return rows, count, head


async def test_a_full_sequence_becomes_one_resolved_issue_with_its_timeline(store: ServiceStore) -> None:
    events = lifecycle("iss_full")
    await run(store, events)
    async with store.engine.connect() as conn:
        detail = await issues.get_issue(conn, issue_id="iss_full")
        page = await issues.list_issues(conn, filters=issues.IssueFilter(), limit=10, cursor=None)
    assert [i.id for i in page.items] == ["iss_full"]
    assert detail.status == "resolved"
    assert [a.action for a in detail.timeline] == [
        "issue.detected",
        "investigator.diagnose",
        "diagnosis.ready",
        "fix.committed",
        "deployment.staging.promoted",
        "deployment.production.promoted",
    ]
    assert detail.root_cause and "practice.name" in detail.root_cause
    assert detail.affected_lines == "40-44" and detail.llm_cost_usd == pytest.approx(0.25)
    assert detail.fix is not None and detail.fix.diff and "notFound" in detail.fix.diff
    assert detail.fix.tests is not None and detail.fix.tests["outcome"] == "passed"
    assert [(d.stage, d.outcome) for d in detail.deployments] == [("staging", "promoted"), ("production", "promoted")]
    assert detail.resolved_at == events[-1].occurred_at


async def test_redelivery_and_replay_of_the_same_events_change_nothing(store: ServiceStore) -> None:
    events = lifecycle("iss_replay")
    await run(store, events)
    before = await snapshot(store)
    await run(store, events)  # redelivered: same event ids
    await run(store, events, replay=True)  # `medic replay`: fresh ids with replay-of
    assert await snapshot(store) == before


async def test_out_of_order_events_never_move_the_issue_backwards(store: ServiceStore) -> None:
    detected, started, diagnosis, fix, staging, production = lifecycle("iss_ooo")
    await run(store, [fix, staging])  # the issue is first heard of through its fix
    await run(store, [diagnosis, detected, started])  # late arrivals
    async with store.engine.connect() as conn:
        detail = await issues.get_issue(conn, issue_id="iss_ooo")
    assert detail.status == "deploying"
    assert detail.detected_at == detected.occurred_at and detail.title == detected.title
    assert detail.root_cause is not None and detail.occurrences == 5
    await run(store, [production])
    async with store.engine.connect() as conn:
        assert (await issues.get_issue(conn, issue_id="iss_ooo")).status == "resolved"


async def test_a_regression_after_resolution_reopens_the_issue(store: ServiceStore) -> None:
    events = lifecycle("iss_again", start=datetime.now(UTC) - timedelta(hours=2))
    await run(store, events)
    detected = events[0]
    assert isinstance(detected, IssueDetected)
    again = detected.model_copy(
        update={
            "event_id": "regressed-1",
            "correlation_id": "run-2",
            "reason": DetectionReason.REGRESSED,
            "occurred_at": datetime.now(UTC),
        }
    )
    await run(store, [again])
    async with store.engine.connect() as conn:
        detail = await issues.get_issue(conn, issue_id="iss_again")
    assert detail.status == "reopened" and detail.resolved_at is None


async def test_a_rollback_counts_and_marks_the_issue_rolled_back(store: ServiceStore) -> None:
    events = lifecycle("iss_rb")
    fix = events[3]
    rolled = fix.follow_up(
        DeploymentResult,
        producer=RELEASER,
        issue=events[2].issue,  # type: ignore[attr-defined]
        run_id="run_1",
        stage="production",
        outcome=DeploymentOutcome.ROLLED_BACK,
        commit_sha="f" * 40,
        reason="error rate +45%",
        occurred_at=events[-1].occurred_at + timedelta(minutes=5),
    )
    await run(store, [*events, rolled])
    async with store.engine.connect() as conn:
        detail = await issues.get_issue(conn, issue_id="iss_rb")
    assert detail.status == "rolled_back" and detail.rollback_count == 1


async def test_approvals_dead_letters_and_commands_are_kept_and_snapshots_are_not_audited(store: ServiceStore) -> None:
    request = approval_request("iss_apr")
    letter = DeadLetter(
        producer=WATCHER,
        original_topic="medic.issues.detected",
        partition=1,
        offset=7,
        value_b64="bm90IGpzb24=",
        consumer_group="medic.investigator",
        error_type="ValidationError",
        error="bad \x00 input",
        attempts=1,
        permanent=True,
    )
    pause = ControlCommand(producer=WATCHER, command=CommandName.PAUSE, actor="alice", reason="incident", paused=True)
    snap = ControlCommand(producer=WATCHER, command=CommandName.STATE_SNAPSHOT, actor="control-api", paused=False)
    action = ActionRecorded(producer=WATCHER, action="watcher.poll", status=ActionStatus.SUCCEEDED, summary="polled 3 sources")
    await run(store, [request, letter, pause, snap, action])
    async with store.engine.connect() as conn:
        approval = (await conn.execute(select(Approval))).one()
        dead = (await conn.execute(select(DeadLetterRow))).one()
        actions = [r.action for r in await audit.list_actions(conn, filters=audit.ActionFilter(), limit=10, newest_first=False)]
        report = await audit.verify(conn)
    assert approval.status == "pending" and approval.diff_hash == request.diff_hash
    assert dead.error == "bad \ufffd input" and dead.permanent
    assert actions == ["approval.requested.fix", "dlq.dead_letter", "control.pause", "watcher.poll"]
    assert report.ok


@pytest.mark.kafka
@pytest.mark.slow
async def test_events_published_on_the_broker_project_into_one_issue_and_a_replay_changes_nothing(
    store_url: str, start_control: StartControl, kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    control = await start_control(store_url, projector=True)
    events = lifecycle("iss_bus")
    await publish(kafka_bootstrap, topics, events)

    async with control.client("viewer") as client:

        async def resolved() -> bool:
            response = await client.get("/api/v1/issues/iss_bus")
            return (
                response.status_code == 200 and response.json()["status"] == "resolved" and len(response.json()["timeline"]) == 6
            )

        await eventually(resolved, timeout=30)
        before = (await client.get("/api/v1/issues/iss_bus")).json()
        head_before = (await client.get("/api/v1/audit/head")).json()

        # The same events again (a redelivery), then replayed (`medic replay`: fresh ids, replay-of), then a marker.
        await publish(kafka_bootstrap, topics, events)
        for e in events:
            await publish(kafka_bootstrap, topics, [e.with_fresh_id()], headers={HEADER_REPLAY_OF: e.event_id})
        marker = lifecycle("iss_marker")[:1]
        await publish(kafka_bootstrap, topics, marker)

        async def marker_seen() -> bool:
            return (await client.get("/api/v1/issues/iss_marker")).status_code == 200

        await eventually(marker_seen, timeout=30)
        after = (await client.get("/api/v1/issues/iss_bus")).json()
        listing = (await client.get("/api/v1/issues")).json()
        verify = (await control.client("operator").get("/api/v1/audit/verify")).json()
    assert {i["id"] for i in listing["items"]} == {"iss_bus", "iss_marker"}
    assert verify["ok"]
    after.pop("updated_at", None), before.pop("updated_at", None)
    assert after == before
    assert [a for a in after["timeline"] if a["seq"] > head_before["seq"]] == []
