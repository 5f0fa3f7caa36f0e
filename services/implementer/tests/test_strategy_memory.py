"""What the strategy history teaches: similarity, avoidance and confidence (pure domain)."""

from __future__ import annotations

import pytest

from medic_contracts import CheckVerdict, FixStrategy
from medic_contracts import TestOutcome as RunOutcome
from medic_contracts import TestReport as Report
from medic_implementer.domain.failure_analysis import analyse_rating, analyse_rollback, analyse_tests
from medic_implementer.domain.strategy_memory import (
    PRIOR_CONFIDENCE,
    IssueShape,
    Signal,
    StrategyOutcome,
    recall_strategies,
    strategy_confidence,
)

NULL = FixStrategy.NULL_GUARD
REVERT = FixStrategy.PARTIAL_REVERT
HERE = IssueShape(fingerprint="fp-a", error_kind="none_value", file="app/main.py", function="read_practice")


def outcome(
    signal: Signal, *, at: float, strategy: FixStrategy = NULL, shape: IssueShape = HERE, rating: int | None = None
) -> StrategyOutcome:
    return StrategyOutcome(strategy=strategy, shape=shape, signal=signal, at=at, issue_id="iss_1", rating=rating)


def test_issues_are_similar_by_fingerprint_or_by_error_kind_in_the_same_file_and_function() -> None:
    assert HERE.matches(IssueShape(fingerprint="fp-a", error_kind="missing_key", file="other.py"))
    assert HERE.matches(IssueShape(fingerprint="fp-b", error_kind="none_value", file="app/main.py", function=None))
    assert not HERE.matches(IssueShape(fingerprint="fp-b", error_kind="none_value", file="app/main.py", function="other"))
    assert not HERE.matches(IssueShape(fingerprint="fp-b", error_kind="missing_key", file="app/main.py"))
    assert not HERE.matches(IssueShape(fingerprint="fp-b", error_kind="none_value", file="app/db.py"))
    assert not IssueShape(fingerprint="", error_kind="x").matches(IssueShape(fingerprint="", error_kind="x"))


def test_a_rolled_back_strategy_is_avoided_for_a_similar_issue_only_until_it_succeeds_again() -> None:
    elsewhere = IssueShape(fingerprint="fp-z", error_kind="none_value", file="app/other.py")
    history = [outcome(Signal.PROMOTED, at=1), outcome(Signal.ROLLED_BACK, at=2), outcome(Signal.COMMITTED, at=3)]
    learnt = recall_strategies(history, HERE)
    assert learnt.avoided(NULL) and not learnt.avoided(REVERT)
    assert "rolled back" in learnt.why_avoided[NULL]
    assert not recall_strategies(history, elsewhere).avoided(NULL)  # not similar: nothing to avoid
    assert not recall_strategies([*history, outcome(Signal.PROMOTED, at=4)], HERE).avoided(NULL)


def test_ratings_and_rejections_move_confidence_from_the_prior_without_reaching_the_extremes() -> None:
    assert strategy_confidence([], NULL) == PRIOR_CONFIDENCE
    rejected = [outcome(Signal.REJECTED, at=1)]
    assert strategy_confidence(rejected, NULL) == pytest.approx(1 / 3)
    good = [*rejected, outcome(Signal.RATED, at=2, rating=5), outcome(Signal.RATED, at=3, rating=5)]
    assert strategy_confidence(good, NULL) == pytest.approx(3 / 5)
    middling = [outcome(Signal.RATED, at=1, rating=3)]
    assert strategy_confidence(middling, NULL) == PRIOR_CONFIDENCE  # a 3/5 is as much good as bad
    assert recall_strategies(good, HERE).confidence_of(REVERT) == PRIOR_CONFIDENCE  # other strategies keep the prior
    assert recall_strategies([outcome(Signal.RATED, at=1, rating=2)], HERE).avoided(NULL)
    assert not recall_strategies([outcome(Signal.RATED, at=1, rating=3)], HERE).avoided(NULL)


def test_a_rollback_analysis_names_the_failing_check_and_a_reopening_the_recurrence() -> None:
    checks = (
        CheckVerdict(name="latency", passed=False, detail="p95 2.4x baseline"),
        CheckVerdict(name="error_rate", passed=True),
    )
    rolled = analyse_rollback(strategy=NULL, stage="staging", reason="latency", checks=checks)
    assert (
        rolled.signal is Signal.ROLLED_BACK
        and rolled.cause == "latency_regressed"
        and rolled.findings == ("latency: p95 2.4x baseline",)
    )
    reopened = analyse_rollback(strategy=NULL, stage="production", reason="", checks=(), reopened=True)
    assert (
        reopened.signal is Signal.REOPENED
        and reopened.cause == "error_recurred"
        and "did not remove its cause" in reopened.summary
    )


def test_a_test_failure_analysis_tells_a_timeout_from_an_assertion() -> None:
    timed_out = analyse_tests(strategy=NULL, reports=[Report(command="t", outcome=RunOutcome.TIMED_OUT, summary="killed")])
    assert timed_out.cause == "tests_timed_out"
    failed = analyse_tests(
        strategy=NULL,
        reports=[Report(command="t", outcome=RunOutcome.FAILED, failed=2, summary="E KeyError: 'x'\n2 failed")],
    )
    assert failed.cause == "tests_failed" and "KeyError" in failed.summary and "2 failing" in failed.summary
    assert analyse_rating(strategy=NULL, rating=4, actor="a", comment="fine") is None
