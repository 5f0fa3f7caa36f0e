"""What a fix attempt ends in: the job's typed verdict (:class:`FixOutcome`), the fix it chose, an approved fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from medic_contracts import Decision, DiagnosisReady, FixCommitted, FixStrategy, Producer, TestReport

from .candidates import FixCandidate

__all__ = ["ApprovedFix", "ChosenFix", "FixOutcome", "OutcomeKind"]


class OutcomeKind(StrEnum):
    """How an implementation attempt ended."""

    COMMITTED = "committed"  # committed, pushed, pull request open
    NEEDS_APPROVAL = "needs_approval"  # a tested fix waits for a human (nothing committed)
    REFUSED = "refused"  # a hard rule forbids the write (protected path): a human must act
    BLOCKED = "blocked"  # policy blocks it now (kill switch, P4, paused)
    NO_FIX = "no_fix"  # no candidate passed the tests
    NEEDS_HUMAN = "needs_human"  # the diagnosis says this is not for an automatic fix


@dataclass(frozen=True)
class FixOutcome:
    """What :func:`~medic_implementer.job.implement_fix` did: a committed fix (FixCommitted fields) or why not."""

    kind: OutcomeKind
    reasons: tuple[str, ...] = ()
    issue_id: str = ""
    branch: str = ""
    base_sha: str = ""
    commit_sha: str | None = None
    files_changed: tuple[str, ...] = ()
    diff: str = ""
    diff_hash: str = ""
    strategy: FixStrategy = FixStrategy.NEEDS_HUMAN
    description: str = ""
    regression_test: str | None = None
    tests: TestReport | None = None
    pr_url: str | None = None
    pr_number: int | None = None
    signature: str = "unsigned"
    attempt: int = 1
    needs_approval: bool = False
    resumed: bool = False
    candidates: tuple[dict[str, Any], ...] = ()
    refusals: tuple[dict[str, str], ...] = ()
    decision: Decision | None = None  # the policy decision behind NEEDS_APPROVAL and BLOCKED
    reproduced: bool | None = None  # the failure reproduced on the unfixed code (None: not recorded, e.g. approved)
    verified: bool | None = None  # the fix makes the reproduction pass, pinned to its outcome
    verification: str = ""  # the release gate's verdict in words

    def as_dict(self) -> dict[str, Any]:
        """The outcome as JSON-ready data (CLI, benchmarks)."""
        return {
            "kind": self.kind.value,
            "reasons": list(self.reasons),
            "issue_id": self.issue_id,
            "branch": self.branch,
            "base_sha": self.base_sha,
            "commit_sha": self.commit_sha,
            "files_changed": list(self.files_changed),
            "diff_hash": self.diff_hash,
            "strategy": self.strategy.value,
            "description": self.description,
            "regression_test": self.regression_test,
            "tests": self.tests.model_dump(mode="json") if self.tests else None,
            "pr_url": self.pr_url,
            "pr_number": self.pr_number,
            "signature": self.signature,
            "attempt": self.attempt,
            "needs_approval": self.needs_approval,
            "resumed": self.resumed,
            "candidates": [dict(c) for c in self.candidates],
            "refusals": [dict(r) for r in self.refusals],
            "diff": self.diff,
            "reproduced": self.reproduced,
            "verified": self.verified,
            "verification": self.verification,
        }

    @property
    def committed(self) -> bool:
        """True when a fix commit exists and its pull request is open."""
        return self.kind is OutcomeKind.COMMITTED

    def fix_committed(self, diagnosis: DiagnosisReady, *, producer: Producer, repository: str) -> FixCommitted:
        """The FixCommitted event for a committed outcome."""
        if not self.committed or self.commit_sha is None or self.tests is None:
            raise ValueError(f"no commit to announce ({self.kind})")
        return diagnosis.follow_up(
            FixCommitted,
            producer=producer,
            issue=diagnosis.issue,
            repository=repository,
            branch=self.branch,
            base_sha=self.base_sha,
            commit_sha=self.commit_sha,
            files_changed=self.files_changed,
            diff=self.diff[:200_000],
            diff_hash=self.diff_hash,
            strategy=self.strategy,
            regression_test=self.regression_test,
            tests=self.tests,
            pr_url=self.pr_url,
            pr_number=self.pr_number,
            signature=self.signature,
            attempt=self.attempt,
            needs_approval=self.needs_approval,
            root_cause=diagnosis.root_cause,
            reproduced=self.reproduced,
            verified=self.verified,
            verification=self.verification[:1000] or None,
        )


@dataclass(frozen=True)
class ApprovedFix:
    """A fix a human approved: the exact diff (bound by its hash) and what was known when it was asked."""

    diff: str
    diff_hash: str
    base_sha: str
    strategy: FixStrategy
    description: str
    tests: TestReport
    regression_test: str | None = None


@dataclass(frozen=True)
class ChosenFix:
    """The fix about to be committed: the best tested candidate within policy, or a human-approved diff."""

    diff: str
    strategy: FixStrategy
    description: str
    tests: TestReport
    regression_test: str | None
    within_evidence: bool
    files: tuple[str, ...]
    approved: bool  # a human approved this exact diff
    candidates: tuple[FixCandidate, ...] = ()
    reproduced: bool | None = None  # the release gate's facts (None for a human-approved diff: not re-checked)
    verified: bool | None = None
    verification: str = ""
