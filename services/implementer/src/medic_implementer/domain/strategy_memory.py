"""Strategy memory, the pure side: what past fixes teach about each fix strategy for a new issue.

One vocabulary for the learning loop: the *strategy memory* (``adapters/strategy_memory.py``,
:class:`StrategyMemory`) keeps every signal about a fix strategy — tests that failed, a fix a human
rejected or rated, a deployment promoted or rolled back — as a :class:`StrategyOutcome` with the
*shape* of the issue it was about; :func:`recall_strategies` turns those outcomes into a
:class:`StrategyRecall` for a new issue (the investigator's ``CaseMemory`` does the same for cases):

- a strategy whose latest decisive outcome on a *similar* issue was bad (rolled back, rejected,
  tests failed, rated 1–2) is avoided: candidates of it are ranked after every other passing one;
  a later good outcome on a similar issue (promoted, rated 4–5) lifts that;
- every strategy gets a confidence: the mean of a Beta(1, 1) prior updated with all its outcomes,
  on any issue, so ratings and rejections move it and one signal never swings it to 0 or 1.

"Similar" is the same fingerprint (the same issue again), or the same error kind in the same
culprit file and — when both issues name one — the same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from medic_contracts import DeploymentOutcome, DeploymentResult, DeploymentStage, DiagnosisReady, FixStrategy

from .failure import FailureKind, read_failure, repo_relative

__all__ = [
    "PRIOR_CONFIDENCE",
    "IssueShape",
    "Signal",
    "StrategyOutcome",
    "StrategyRecall",
    "deployment_verdict",
    "recall_strategies",
    "shape_of",
    "strategy_confidence",
]

PRIOR_CONFIDENCE = 0.5


class Signal(StrEnum):
    """What was learnt about a fix made with a strategy."""

    COMMITTED = "committed"  # no verdict yet: counted in the history, not in confidence
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    REOPENED = "reopened"  # promoted, then the fixed error came back: the fix did not fix it
    REJECTED = "rejected"
    TESTS_FAILED = "tests_failed"
    RATED = "rated"


@dataclass(frozen=True, slots=True)
class IssueShape:
    """What makes two issues alike for learning: fingerprint, error kind, culprit file and function."""

    fingerprint: str
    error_kind: str
    file: str | None = None
    function: str | None = None

    def matches(self, other: IssueShape) -> bool:
        """True for the same issue again, or the same kind of error at the same place in the code."""
        if self.fingerprint and self.fingerprint == other.fingerprint:
            return True
        if not self.file or self.file != other.file or self.error_kind != other.error_kind:
            return False
        return self.function is None or other.function is None or self.function == other.function


@dataclass(frozen=True, slots=True)
class StrategyOutcome:
    """One signal about a fix strategy on one issue."""

    strategy: FixStrategy
    shape: IssueShape
    signal: Signal
    at: float  # POSIX seconds
    issue_id: str = ""
    rating: int | None = None  # 1–5 for RATED

    @property
    def weights(self) -> tuple[float, float]:
        """(success, failure) evidence this outcome adds to its strategy's confidence."""
        if self.signal is Signal.PROMOTED:
            return 1.0, 0.0
        if self.signal in (Signal.ROLLED_BACK, Signal.REOPENED, Signal.REJECTED):
            return 0.0, 1.0
        if self.signal is Signal.TESTS_FAILED:
            return 0.0, 0.5  # caught before any harm: weaker evidence than a rollback
        if self.signal is Signal.RATED and self.rating is not None:
            good = (min(max(self.rating, 1), 5) - 1) / 4
            return good, 1.0 - good
        return 0.0, 0.0

    @property
    def verdict(self) -> bool | None:
        """True for a good outcome, False for a bad one, None when it says neither."""
        if self.signal is Signal.PROMOTED or (self.signal is Signal.RATED and (self.rating or 0) >= 4):
            return True
        if self.signal in (Signal.ROLLED_BACK, Signal.REOPENED, Signal.REJECTED, Signal.TESTS_FAILED):
            return False
        if self.signal is Signal.RATED and self.rating is not None and self.rating <= 2:
            return False
        return None


@dataclass(frozen=True, slots=True)
class StrategyRecall:
    """What the strategy memory recalls for one issue: strategies to avoid, and each strategy's confidence."""

    avoid: frozenset[FixStrategy] = frozenset()
    confidence: Mapping[FixStrategy, float] = field(default_factory=dict)
    why_avoided: Mapping[FixStrategy, str] = field(default_factory=dict)

    def avoided(self, strategy: FixStrategy) -> bool:
        """True when a similar issue's fix with ``strategy`` went wrong and nothing good came after."""
        return strategy in self.avoid

    def confidence_of(self, strategy: FixStrategy) -> float:
        """The strategy's confidence (the prior when nothing is known)."""
        return self.confidence.get(strategy, PRIOR_CONFIDENCE)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (audit details)."""
        return {
            "avoid": sorted(s.value for s in self.avoid),
            "why_avoided": {s.value: why for s, why in sorted(self.why_avoided.items())},
            "confidence": {s.value: round(c, 3) for s, c in sorted(self.confidence.items())},
        }


def strategy_confidence(outcomes: Iterable[StrategyOutcome], strategy: FixStrategy) -> float:
    """Mean of Beta(1 + successes, 1 + failures) over every outcome of ``strategy``."""
    good = bad = 0.0
    for outcome in outcomes:
        if outcome.strategy is strategy:
            g, b = outcome.weights
            good, bad = good + g, bad + b
    return (1.0 + good) / (2.0 + good + bad)


def recall_strategies(outcomes: Iterable[StrategyOutcome], shape: IssueShape) -> StrategyRecall:
    """The strategies to avoid for an issue of ``shape`` and every known strategy's confidence."""
    history = sorted(outcomes, key=lambda o: o.at)
    latest: dict[FixStrategy, StrategyOutcome] = {}
    for outcome in history:
        if outcome.verdict is not None and shape.matches(outcome.shape):
            latest[outcome.strategy] = outcome
    avoid = {s: o for s, o in latest.items() if o.verdict is False}
    strategies = {o.strategy for o in history}
    return StrategyRecall(
        avoid=frozenset(avoid),
        confidence={s: strategy_confidence(history, s) for s in strategies},
        why_avoided={s: _why(o) for s, o in avoid.items()},
    )


def _why(outcome: StrategyOutcome) -> str:
    what = {
        Signal.ROLLED_BACK: "was rolled back",
        Signal.REOPENED: "did not stop the error (reopened)",
        Signal.REJECTED: "was rejected by a human",
        Signal.TESTS_FAILED: "failed the tests",
        Signal.RATED: f"was rated {outcome.rating}/5",
    }.get(outcome.signal, outcome.signal.value)
    return f"its fix for {outcome.issue_id or 'a similar issue'} {what}"


def shape_of(diagnosis: DiagnosisReady) -> IssueShape:
    """The shape of a diagnosed issue: its fingerprint, the kind of fault, the culprit file and function."""
    facts = read_failure(diagnosis)
    kind = facts.kind.value if facts.kind is not FailureKind.UNKNOWN else f"exception:{facts.exception_type or 'unknown'}"
    file = repo_relative(diagnosis.affected_file) if diagnosis.affected_file else None
    return IssueShape(
        fingerprint=diagnosis.issue.fingerprint, error_kind=kind, file=file or None, function=diagnosis.affected_function
    )


def deployment_verdict(event: DeploymentResult) -> bool | None:
    """What a deployment says about the fix it shipped: False when rolled back or reopened, True when promoted
    to production, None when it says neither (yet)."""
    if event.outcome in (DeploymentOutcome.ROLLED_BACK, DeploymentOutcome.REOPENED):
        return False
    if event.outcome is DeploymentOutcome.PROMOTED and event.stage is DeploymentStage.PRODUCTION:
        return True
    return None
