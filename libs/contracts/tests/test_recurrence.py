"""One recurrence rule for the watcher and the releaser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medic_contracts import DeploymentOutcome, DeploymentStage, Recurrence, decide_recurrence, recurrence_outcome

FIXED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_an_occurrence_without_a_fix_in_production_is_not_a_recurrence() -> None:
    verdict = decide_recurrence(seen_at=FIXED, fixed_at=None)
    assert verdict is Recurrence.NOT_FIXED and not verdict.recurred


@pytest.mark.parametrize("seen", [FIXED - timedelta(seconds=1), FIXED])
def test_an_occurrence_from_before_the_fix_reached_production_is_the_issue_going_on(seen: datetime) -> None:
    assert decide_recurrence(seen_at=seen, fixed_at=FIXED) is Recurrence.BEFORE_FIX


def test_an_occurrence_after_the_fix_reached_production_recurs_and_never_expires_without_a_window() -> None:
    verdict = decide_recurrence(seen_at=FIXED + timedelta(microseconds=1), fixed_at=FIXED)
    assert verdict is Recurrence.RECURRED and verdict.recurred
    later = FIXED + timedelta(days=30)
    assert decide_recurrence(seen_at=later, fixed_at=FIXED, now=later).recurred


def test_epoch_seconds_and_datetimes_mix() -> None:
    fixed = FIXED.timestamp()
    assert decide_recurrence(seen_at=FIXED + timedelta(seconds=1), fixed_at=fixed).recurred
    assert decide_recurrence(seen_at=fixed - 1, fixed_at=FIXED) is Recurrence.BEFORE_FIX


def test_a_recurrence_reported_after_the_verification_window_no_longer_undoes_the_release() -> None:
    seen = FIXED + timedelta(hours=1)
    until = FIXED + timedelta(hours=24)
    assert decide_recurrence(seen_at=seen, fixed_at=FIXED, now=until, verify_until=until).recurred
    verdict = decide_recurrence(seen_at=seen, fixed_at=FIXED, now=until + timedelta(seconds=1), verify_until=until)
    assert verdict is Recurrence.VERIFIED and not verdict.recurred


def test_a_recurrence_reopens_in_production_and_rolls_back_elsewhere() -> None:
    assert recurrence_outcome(DeploymentStage.PRODUCTION) is DeploymentOutcome.REOPENED
    assert recurrence_outcome(DeploymentStage.STAGING) is DeploymentOutcome.ROLLED_BACK
