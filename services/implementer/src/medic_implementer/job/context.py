"""What every step of the fix job shares: how fixes are made (:class:`FixOptions`) and the job itself (:class:`FixJob`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from medic_contracts import ActionStatus, DiagnosisReady, FixStrategy, TargetConfig

from ..adapters.signing import CommitSigner
from ..adapters.testrun import SandboxLimits, TestRun, TestRunner
from ..domain.behaviour import Replay
from ..domain.commit_message import one_line
from ..domain.guard import PathGuard
from ..domain.outcome import FixOutcome, OutcomeKind
from ..domain.regression import RegressionTest
from ..domain.release_gate import ReleaseGate
from ..domain.reproduction import Reproduction
from ..domain.static_checks import Checker, Diagnostic
from ..domain.strategy_memory import StrategyRecall
from ..domain.style import StyleTool

__all__ = ["Audit", "CandidateProposer", "FixJob", "FixOptions", "SideEffectCheck", "allow", "no_audit", "write_guarded"]

Audit = Callable[[str, ActionStatus, str, dict[str, Any]], None]
SideEffectCheck = Callable[[str], None]


def no_audit(_action: str, _status: ActionStatus, _summary: str, _details: dict[str, Any]) -> None:
    """The audit of a caller that keeps none (the CLI, benchmarks)."""
    return


def allow(_action: str) -> None:
    """The side-effect check of a caller without a pause gate: every commit and push may go ahead."""
    return


def write_guarded(guard: PathGuard, path: str, text: str) -> None:
    """Write ``text`` to ``path`` in the worktree; a path the guard refuses raises and nothing is written."""
    target = guard.resolve(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


class CandidateProposer(Protocol):
    """A fixer that edits the worktree itself (the Claude fixer): returns (files, description, strategy) or None."""

    async def propose(
        self,
        *,
        diagnosis: DiagnosisReady,
        workspace: Path,
        guard: PathGuard,
        run_tests: Callable[[], Awaitable[TestRun]],
        audit: Audit,
    ) -> tuple[tuple[str, ...], str, FixStrategy] | None: ...


@dataclass(frozen=True)
class FixOptions:
    """How fixes are made: where worktrees live, sandbox limits, signing, the optional LLM fixer."""

    workspace_root: Path
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    signer: CommitSigner = field(default_factory=lambda: CommitSigner(key=None))
    max_candidates: int = 4
    proposer: CandidateProposer | None = None
    push_attempts: int = 3
    push_backoff_s: float = 1.0
    labels: tuple[str, ...] = ("medic", "auto-fix")
    gate: ReleaseGate = field(default_factory=ReleaseGate)  # when a fix is released without a human


@dataclass
class FixJob:
    """One fix attempt for one diagnosis: what its steps work with, and the refusals and style notes so far."""

    diagnosis: DiagnosisReady
    target: TargetConfig
    options: FixOptions
    audit: Audit
    runner: TestRunner
    branch: str
    attempt: int
    before_side_effect: SideEffectCheck = allow  # raises to refuse a commit or push (the service's pause gate)
    refusals: list[dict[str, str]] = field(default_factory=list)
    recall: StrategyRecall = field(default_factory=StrategyRecall)
    style_tools: tuple[StyleTool, ...] | None = None  # read from the checkout on first use
    style_found: dict[StyleTool, Path | None] = field(default_factory=dict)
    style_noted: set[str] = field(default_factory=set)
    reproduction: Reproduction | None = None  # the reproduce step's verdict on the unfixed code
    checkers: tuple[Checker, ...] | None = None  # the static checkers the checkout configures, read on first use
    checker_found: dict[Checker, Path | None] = field(default_factory=dict)
    # (checker, operands) -> its diagnostics on the unfixed tree (None: it did not run) and why not
    checker_base: dict[tuple[str, tuple[str, ...]], tuple[tuple[Diagnostic, ...] | None, str]] = field(default_factory=dict)
    # the captured passing requests' replay tests and what the unfixed code answered them, made on first use
    replays: tuple[tuple[RegressionTest | None, ...], tuple[Replay, ...]] | None = None

    def outcome(self, kind: OutcomeKind, reasons: tuple[str, ...], **fields: Any) -> FixOutcome:
        """A :class:`FixOutcome` of this job: its issue, branch, attempt and refusals, plus ``fields``."""
        return FixOutcome(
            kind=kind,
            reasons=reasons,
            issue_id=self.diagnosis.issue_id,
            branch=self.branch,
            attempt=self.attempt,
            refusals=tuple(self.refusals),
            **fields,
        )

    def note_style(self, key: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
        """Audit a style event once per job (every candidate runs the same tools)."""
        if key not in self.style_noted:
            self.style_noted.add(key)
            self.audit("implementer.style", status, summary, details)

    def note_sandbox(self, result: TestRun) -> None:
        """Audit, once per job, that tests ran without the full sandbox (the release then needs a human)."""
        if not result.sandbox.sandboxed and "sandbox" not in self.style_noted:
            self.style_noted.add("sandbox")
            missing = list(result.sandbox.missing)
            summary = "tests ran without the full sandbox: the fix is released only with approval"
            self.audit("implementer.sandbox", ActionStatus.FAILED, summary, {"missing": missing})

    def refuse(self, path: str, reason: str, origin: str) -> None:
        """Keep and audit a write the path guard refused."""
        self.refusals.append({"path": path, "reason": reason, "origin": origin})
        self.audit(
            "implementer.guard",
            ActionStatus.REFUSED,
            f"refused to write {one_line(path, limit=200)}: {reason}",
            {"path": path[:500], "reason": reason, "origin": origin},
        )
