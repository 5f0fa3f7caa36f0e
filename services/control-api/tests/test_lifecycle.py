"""The issue state machine: forward only within a run, a newer run reopens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medic_control.issues.lifecycle import IssueStatus, next_status

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def step(
    current: IssueStatus, reported: IssueStatus, *, run: str = "r1", event_run: str = "r1", dt: int = 60
) -> IssueStatus | None:
    moved = next_status(
        current=current, run_id=run, changed_at=T0, reported=reported, event_run=event_run, event_at=T0 + timedelta(seconds=dt)
    )
    return moved.status if moved else None


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        (IssueStatus.DETECTED, IssueStatus.DIAGNOSING, IssueStatus.DIAGNOSING),
        (IssueStatus.DIAGNOSING, IssueStatus.FIXING, IssueStatus.FIXING),
        (IssueStatus.FIXING, IssueStatus.AWAITING_APPROVAL, IssueStatus.AWAITING_APPROVAL),
        (IssueStatus.AWAITING_APPROVAL, IssueStatus.DEPLOYING, IssueStatus.DEPLOYING),
        (IssueStatus.DEPLOYING, IssueStatus.RESOLVED, IssueStatus.RESOLVED),
        (IssueStatus.DEPLOYING, IssueStatus.ROLLED_BACK, IssueStatus.ROLLED_BACK),
        (IssueStatus.FIXING, IssueStatus.FAILED, IssueStatus.FAILED),
    ],
)
def test_an_issue_moves_forward_through_the_loop(current: IssueStatus, reported: IssueStatus, expected: IssueStatus) -> None:
    assert step(current, reported) is expected


@pytest.mark.parametrize(
    ("current", "late"),
    [
        (IssueStatus.DEPLOYING, IssueStatus.FIXING),
        (IssueStatus.FIXING, IssueStatus.DETECTED),
        (IssueStatus.RESOLVED, IssueStatus.DEPLOYING),
        (IssueStatus.AWAITING_APPROVAL, IssueStatus.DIAGNOSING),
    ],
)
def test_a_late_event_of_the_same_run_never_moves_an_issue_backwards(current: IssueStatus, late: IssueStatus) -> None:
    assert step(current, late) is None
    assert step(current, late, dt=-60) is None


def test_a_rollback_after_promotion_replaces_resolved_but_an_older_end_state_does_not() -> None:
    assert step(IssueStatus.RESOLVED, IssueStatus.ROLLED_BACK, dt=60) is IssueStatus.ROLLED_BACK
    assert step(IssueStatus.RESOLVED, IssueStatus.ROLLED_BACK, dt=-60) is None


def test_a_regression_reopens_a_resolved_issue_and_starts_a_new_run() -> None:
    moved = next_status(
        current=IssueStatus.RESOLVED,
        run_id="r1",
        changed_at=T0,
        reported=IssueStatus.REOPENED,
        event_run="r2",
        event_at=T0 + timedelta(hours=1),
    )
    assert moved is not None and moved.status is IssueStatus.REOPENED and moved.run_id == "r2"
    assert step(IssueStatus.REOPENED, IssueStatus.FIXING, run="r2", event_run="r2") is IssueStatus.FIXING


def test_a_new_detection_reopens_only_an_issue_that_ended_and_only_when_newer() -> None:
    assert step(IssueStatus.RESOLVED, IssueStatus.DETECTED, event_run="r2", dt=60) is IssueStatus.REOPENED
    assert step(IssueStatus.FIXING, IssueStatus.DETECTED, event_run="r2", dt=60) is None
    assert step(IssueStatus.RESOLVED, IssueStatus.DETECTED, event_run="r2", dt=-60) is None


def test_an_older_event_of_another_run_changes_nothing() -> None:
    assert step(IssueStatus.DEPLOYING, IssueStatus.FIXING, event_run="r0", dt=-600) is None
