"""Fix candidates, how they are compared, and what a diff says about itself."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from medic_contracts import FixStrategy, TestReport

from .behaviour import BehaviourVerdict
from .commit_message import FileChange
from .diffscan import parse_unified
from .static_checks import StaticVerdict
from .strategy_memory import StrategyRecall

__all__ = [
    "FixCandidate",
    "best_candidate",
    "candidate_summaries",
    "cannot_be_outranked",
    "diff_changes",
    "diff_hash",
    "diff_lines",
    "diff_paths",
    "last_revert_passed_cleanly",
]

_REVERTS = (FixStrategy.REVERT_COMMIT, FixStrategy.PARTIAL_REVERT)


@dataclass(frozen=True, slots=True)
class FixCandidate:
    """One validated attempt at a fix."""

    strategy: FixStrategy
    origin: str  # template | revert | claude
    description: str
    files: tuple[str, ...]
    diff: str
    tests: TestReport
    within_evidence: bool
    reproduced: bool  # verified: the reproduction failed before, passes with this fix, pinned to its outcome
    preference: int = 0  # the order its fixer proposed it in (lower: the better-suited template)
    styled: tuple[str, ...] = ()  # the repository's formatters/linters run on it
    verify_reason: str | None = None  # why the reproduction does not pass with this fix (None: it does, or none ran)
    checks: StaticVerdict = field(default_factory=StaticVerdict)  # the repository's type checker and linters
    behaviour: BehaviourVerdict | None = None  # the captured passing requests replayed (None: not run)

    @property
    def checked_clean(self) -> bool:
        """False when the candidate adds a type or lint error, or changes a captured request's response."""
        return self.checks.clean and (self.behaviour is None or self.behaviour.preserved is not False)

    @property
    def passed(self) -> bool:
        """True when the target's tests passed with this fix applied."""
        return self.tests.outcome.value == "passed"

    @property
    def size(self) -> int:
        """Changed lines (added + removed)."""
        return diff_lines(self.diff)


def diff_hash(diff: str) -> str:
    """``sha256:<hex>`` of a diff: what approvals bind to."""
    return "sha256:" + hashlib.sha256(diff.encode()).hexdigest()


def diff_lines(diff: str) -> int:
    """Added plus removed lines of a unified diff."""
    return sum(1 for line in diff.splitlines() if (line.startswith(("+", "-")) and not line.startswith(("+++", "---"))))


def diff_changes(diff: str) -> list[FileChange]:
    """Per-file added/removed line counts of a unified diff; a rename or copy also names its source."""
    return [FileChange(e.path, e.added, e.removed, old_path=e.old_path) for e in parse_unified(diff)]


def diff_paths(diff: str) -> tuple[str, ...]:
    """Every path a unified diff touches, both sides of renames and copies, in order and once each."""
    return tuple(dict.fromkeys(p for e in parse_unified(diff) for p in e.paths))


def best_candidate(
    candidates: list[FixCandidate], *, suggested: FixStrategy, recall: StrategyRecall | None = None
) -> FixCandidate | None:
    """The fix to keep: tests pass; then no new static diagnostic nor changed response; not a strategy that went
    wrong on a similar issue; within the evidence;
    reproduced; the suggested strategy; the more trusted strategy; the fixer's own preference (value-level before
    an early exit); the smallest diff."""
    passing = [c for c in candidates if c.passed]
    if not passing:
        return None
    learnt = recall or StrategyRecall()

    def rank(c: FixCandidate) -> tuple[int, int, int, int, int, float, int, int]:
        # The investigator's strategy picks the family (revert or template); among templates the fixer's order decides.
        suggested_family = (c.strategy in _REVERTS) == (suggested in _REVERTS)
        # Confidence in tenths: a single rating nudges the order only between otherwise equal candidates.
        trust = -round(learnt.confidence_of(c.strategy), 1)
        return (
            0 if c.checked_clean else 1,  # a new type error or a changed response loses to any clean fix
            1 if learnt.avoided(c.strategy) else 0,
            0 if c.within_evidence else 1,
            0 if c.reproduced else 1,
            0 if suggested_family else 1,
            trust,
            c.preference,
            c.size,
        )

    return min(passing, key=rank)


def cannot_be_outranked(
    candidate: FixCandidate, *, suggested: FixStrategy, has_regression_test: bool, recall: StrategyRecall
) -> bool:
    """True when no other candidate could rank higher under :func:`best_candidate` (trying more only costs test
    runs): passing, not avoided, in the evidence, reproduced, of the suggested family, the fixer's first choice."""
    return (
        candidate.passed
        and candidate.checked_clean
        and not recall.avoided(candidate.strategy)
        and candidate.within_evidence
        and (candidate.reproduced or not has_regression_test)
        and (candidate.strategy in _REVERTS) == (suggested in _REVERTS)
        and candidate.preference == 0
    )


def last_revert_passed_cleanly(candidates: list[FixCandidate], *, has_regression_test: bool) -> bool:
    """True when the last candidate is a revert that passed, inside the evidence, reproducing the failure when it
    could (reverts are tried finest first: a coarser one cannot beat it)."""
    last = candidates[-1] if candidates else None
    return bool(
        last and last.origin == "revert" and last.passed and last.within_evidence and (last.reproduced or not has_regression_test)
    )


def candidate_summaries(candidates: list[FixCandidate], recall: StrategyRecall | None = None) -> tuple[dict[str, Any], ...]:
    """The candidates tried, as JSON-ready data for the outcome and its audit record."""
    recalled = recall or StrategyRecall()
    return tuple(
        {
            "strategy": c.strategy.value,
            "origin": c.origin,
            "description": c.description[:300],
            "files": list(c.files),
            "tests": c.tests.outcome.value,
            "test_summary": c.tests.summary[-1500:],
            "diff_lines": c.size,
            "within_evidence": c.within_evidence,
            "reproduced": c.reproduced,
            "avoided": recalled.avoided(c.strategy),
            "styled": list(c.styled),
            "static_checks": c.checks.summary,
            "behaviour": c.behaviour.reason if c.behaviour is not None else None,
        }
        for c in candidates
    )
