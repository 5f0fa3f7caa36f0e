"""Why a fix failed, in words and as a cause a later issue can be matched against.

A fix fails in one of four ways: its tests failed (nothing was committed), a human rejected it,
the releaser rolled it back (or the fixed error came back after promotion), or a human rated it
poorly. Each ``analyse_*`` function reads what the failure left behind — the failing checks of a
rollout, the summary of a test run, the reviewer's words — and names the cause. Everything read
here is attacker-influenced text (error output, reviewer input through the API): it is only
quoted, truncated, never acted on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medic_contracts import CheckVerdict, FixStrategy, TestOutcome, TestReport

from .strategy_memory import IssueShape, Signal

__all__ = [
    "FailureAnalysis",
    "analyse_rating",
    "analyse_rejection",
    "analyse_rollback",
    "analyse_tests",
    "failed_strategies",
]

_CHECK_CAUSES = {
    "error_rate": ("error_rate_rose", "the error rate rose after the deploy"),
    "new_fingerprints": ("new_errors", "the deploy raised errors not seen before"),
    "health": ("health_check_failed", "health checks failed after the deploy"),
    "latency": ("latency_regressed", "latency regressed after the deploy"),
    "fingerprint_recurrence": ("error_recurred", "the fixed error came back: the fix did not remove its cause"),
    "smoke": ("smoke_failed", "the smoke checks failed against the deployment"),
}
_EXCEPTION = re.compile(r"\b([A-Z][A-Za-z]*(?:Error|Exception))\b")


def _clip(text: str, limit: int = 300) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class FailureAnalysis:
    """The analysis of one failed fix: which strategy, how it failed, the cause and what showed it."""

    strategy: FixStrategy
    signal: Signal
    cause: str
    summary: str
    findings: tuple[str, ...] = ()

    def details(self, shape: IssueShape) -> dict[str, Any]:
        """Audit details: the analysis and the issue shape later issues are matched against."""
        return {
            "strategy": self.strategy.value,
            "signal": self.signal.value,
            "cause": self.cause,
            "findings": list(self.findings),
            "avoid_for": {
                "fingerprint": shape.fingerprint,
                "error_kind": shape.error_kind,
                "file": shape.file,
                "function": shape.function,
            },
        }

    @property
    def lesson(self) -> str:
        """What the implementer does differently from now on."""
        return (
            f"{self.strategy.value} is tried last for issues like this one "
            "(same fingerprint, or same error kind in the same code)"
        )


def analyse_rollback(
    *, strategy: FixStrategy, stage: str, reason: str, checks: Sequence[CheckVerdict], reopened: bool = False
) -> FailureAnalysis:
    """A rolled-back (or reopened) fix: the failing checks name the cause."""
    failed = [c for c in checks if not c.passed]
    causes = [_CHECK_CAUSES.get(c.name, (f"{c.name}_failed", f"the {c.name} check failed")) for c in failed]
    if reopened and not any(cause == "error_recurred" for cause, _ in causes):
        causes.insert(0, _CHECK_CAUSES["fingerprint_recurrence"])
    findings = tuple(_clip(f"{c.name}: {c.detail or 'failed'}", 200) for c in failed)
    if causes:
        cause, words = causes[0]
    else:
        cause, words = "rolled_back", "the releaser rolled it back"
    summary = f"{strategy.value} fix {'reopened' if reopened else 'rolled back'} at {stage}: {words}"
    if reason:
        summary += f" ({_clip(reason, 200)})"
    return FailureAnalysis(
        strategy=strategy,
        signal=Signal.REOPENED if reopened else Signal.ROLLED_BACK,
        cause=cause,
        summary=summary,
        findings=findings,
    )


def analyse_tests(*, strategy: FixStrategy, reports: Sequence[TestReport]) -> FailureAnalysis:
    """Candidates of ``strategy`` whose tests did not pass: timed out, crashed, or which errors the output shows."""
    outcomes = {r.outcome for r in reports}
    text = "\n".join(r.summary for r in reports)
    errors = list(dict.fromkeys(_EXCEPTION.findall(text)))[:5]
    if TestOutcome.TIMED_OUT in outcomes and len(outcomes) == 1:
        cause, words = "tests_timed_out", "the test run timed out with this fix applied"
    elif TestOutcome.ERROR in outcomes and len(outcomes) == 1:
        cause, words = "tests_could_not_run", "the tests could not run with this fix applied"
    elif errors:
        cause, words = "tests_failed", f"the tests failed with {', '.join(errors)}"
    else:
        cause, words = "tests_failed", "the tests failed with this fix applied"
    failed = sum(r.failed for r in reports)
    findings = tuple(_clip(r.summary.splitlines()[-1] if r.summary.strip() else r.outcome.value, 200) for r in reports[:3])
    summary = f"{strategy.value}: {words}" + (f" ({failed} failing test(s))" if failed else "")
    return FailureAnalysis(strategy=strategy, signal=Signal.TESTS_FAILED, cause=cause, summary=summary, findings=findings)


def analyse_rejection(*, strategy: FixStrategy, actor: str, reason: str) -> FailureAnalysis:
    """A fix a human rejected: their reason is the finding."""
    words = _clip(reason, 300) if reason.strip() else "no reason given"
    return FailureAnalysis(
        strategy=strategy,
        signal=Signal.REJECTED,
        cause="rejected_by_human",
        summary=f"{strategy.value} fix rejected by {_clip(actor, 100)}: {words}",
        findings=(words,),
    )


def analyse_rating(*, strategy: FixStrategy, rating: int, actor: str, comment: str) -> FailureAnalysis | None:
    """A poor rating (1–2) is a failure to learn from; a fair or good one is not."""
    if rating > 2:
        return None
    words = _clip(comment, 300) if comment.strip() else "no comment"
    return FailureAnalysis(
        strategy=strategy,
        signal=Signal.RATED,
        cause="rated_poorly",
        summary=f"{strategy.value} fix rated {rating}/5 by {_clip(actor, 100)}: {words}",
        findings=(words,),
    )


def failed_strategies(candidates: Sequence[Mapping[str, Any]], *, test_command: str) -> dict[FixStrategy, list[TestReport]]:
    """The test runs that failed, by strategy, from an outcome's candidate summaries (unknown values skipped)."""
    failed: dict[FixStrategy, list[TestReport]] = {}
    for candidate in candidates:
        if candidate.get("tests") == TestOutcome.PASSED.value:
            continue
        try:
            strategy = FixStrategy(str(candidate.get("strategy")))
            tested = TestOutcome(str(candidate.get("tests")))
        except ValueError:
            continue
        summary = str(candidate.get("test_summary") or "")
        failed.setdefault(strategy, []).append(TestReport(command=test_command, outcome=tested, summary=summary))
    return failed
