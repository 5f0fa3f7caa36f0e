"""Per-strategy outcomes: projected from fixes, deployments, failure analyses and ratings; served by GET /strategies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    Envelope,
    FixCommitted,
    FixStrategy,
    TopicName,
)
from medic_control.db import migrate
from medic_control.issues import service as issues
from medic_control.projector import Delivered, project
from medic_control.strategies import service as strategies
from medic_runtime.store import ServiceStore
from medic_testing.runtime.topics import read_topic

from .conftest import IMPLEMENTER, StartControl, lifecycle, seed

NOW = datetime.now(UTC)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[ServiceStore]:
    store = ServiceStore(store_url, service="control-api")
    await migrate(store.engine, schema=store.schema)
    yield store
    await store.close()


def rolled_back_run(issue_id: str, *, start: datetime, strategy: FixStrategy = FixStrategy.NULL_GUARD) -> list[Envelope]:
    """An issue whose fix (``strategy``) was rolled back at production, and the implementer's analysis of it."""
    events = lifecycle(issue_id, start=start)
    fix = events[3]
    assert isinstance(fix, FixCommitted)
    fix = fix.model_copy(update={"strategy": strategy})
    production = events[5]
    assert isinstance(production, DeploymentResult)
    rolled = production.model_copy(update={"outcome": DeploymentOutcome.ROLLED_BACK, "reason": "error rate rose"})
    analysis = rolled.follow_up(
        ActionRecorded,
        producer=IMPLEMENTER,
        occurred_at=rolled.occurred_at + timedelta(seconds=1),
        action="implementer.fix_failure_analysed",
        status=ActionStatus.SUCCEEDED,
        summary=f"{strategy.value} fix rolled back at production: the error rate rose after the deploy",
        reasoning=f"{strategy.value} is tried last for issues like this one",
        details={"strategy": strategy.value, "signal": "rolled_back", "cause": "error_rate_rose", "findings": []},
    )
    return [*events[:3], fix, events[4], rolled, analysis]


def rejection_analysis(issue_id: str, *, at: datetime, strategy: FixStrategy) -> ActionRecorded:
    return ActionRecorded(
        producer=IMPLEMENTER,
        issue_id=issue_id,
        occurred_at=at,
        action="implementer.fix_failure_analysed",
        status=ActionStatus.SUCCEEDED,
        summary=f"{strategy.value} fix rejected by alice: hides the bug",
        details={"strategy": strategy.value, "signal": "rejected", "cause": "rejected_by_human", "findings": ["hides the bug"]},
    )


async def test_fixes_deployments_and_analyses_become_each_strategys_success_rate_over_time(store: ServiceStore) -> None:
    four_weeks_ago = NOW - timedelta(days=26)
    events = [
        *lifecycle("iss_old", start=four_weeks_ago),  # null_guard, promoted to production
        *rolled_back_run("iss_recent", start=NOW - timedelta(days=2)),  # null_guard, rolled back
        rejection_analysis("iss_recent", at=NOW - timedelta(days=1), strategy=FixStrategy.PARTIAL_REVERT),
    ]
    async with store.transaction() as conn:
        await project(conn, [Delivered(e) for e in events])
    async with store.transaction() as conn:  # a redelivery adds nothing
        await project(conn, [Delivered(e) for e in events])
    async with store.engine.connect() as conn:
        report = await strategies.report(conn, days=28, bucket_days=7)
        detail = await issues.get_issue(conn, issue_id="iss_recent")
    by_name = {s.strategy: s for s in report.strategies}
    null_guard = by_name["null_guard"]
    assert (null_guard.fixes, null_guard.promoted, null_guard.rolled_back) == (2, 1, 1)
    assert null_guard.success_rate == 0.5 and null_guard.confidence == pytest.approx(0.5)
    assert len(null_guard.periods) == 4
    rates = [p.success_rate for p in null_guard.periods]
    assert rates[0] == 1.0 and rates[-1] == 0.0 and rates[1:3] == [None, None]  # good four weeks ago, bad this week
    revert = by_name["partial_revert"]
    assert (revert.fixes, revert.rejected, revert.success_rate) == (0, 1, 0.0)
    # The analysis is recorded with the issue: its actions carry why the fix failed.
    analysed = [a for a in detail.timeline if a.action == "implementer.fix_failure_analysed"]
    assert analysed and "error rate rose" in analysed[0].summary


@pytest.mark.kafka
async def test_a_rating_counts_against_the_fixs_strategy_and_is_broadcast_as_feedback(
    start_control: StartControl, store_url: str, kafka_bootstrap: str
) -> None:
    control = await start_control(store_url)
    await seed(control, lifecycle("iss_rated", start=NOW - timedelta(hours=2)))
    async with control.client("operator") as client:
        response = await client.post("/api/v1/issues/iss_rated/feedback", json={"rating": 2, "comment": "too broad a guard"})
        assert response.status_code == 201
        report = (await client.get("/api/v1/strategies", params={"days": 7, "bucket_days": 1})).json()
        assert (await client.get("/api/v1/strategies", params={"bucket_days": 0})).status_code == 422
    [null_guard] = report["strategies"]
    assert null_guard["strategy"] == "null_guard" and null_guard["ratings"] == 1 and null_guard["mean_rating"] == 2
    assert len(null_guard["periods"]) == 7 and report["bucket_days"] == 1
    assert null_guard["confidence"] == pytest.approx((1 + 1 + 0.25) / (2 + 1 + 1))  # promoted once, rated 2/5
    commands = await read_topic(
        kafka_bootstrap,
        control.runtime.topics.name(TopicName.CONTROL),
        until=lambda es: any(isinstance(e, ControlCommand) and e.command is CommandName.FEEDBACK for e in es),
    )
    feedback = next(e for e in commands if isinstance(e, ControlCommand) and e.command is CommandName.FEEDBACK)
    assert feedback.issue_id == "iss_rated" and feedback.rating == 2 and feedback.fix_strategy is FixStrategy.NULL_GUARD
    assert feedback.comment == "too broad a guard" and feedback.actor == "operator-user"
