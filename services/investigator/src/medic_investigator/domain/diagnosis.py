"""The investigator's findings, before they become a DiagnosisReady event."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from medic_contracts import (
    CODE_EVIDENCE_KINDS,
    Evidence,
    ExceptionInfo,
    FixStrategy,
    NameChange,
    StackFrame,
    TokenUsage,
    ValueOrigin,
)

from .code import CodeContext

__all__ = ["Diagnosis", "Investigation", "OriginSummary", "SuspectSummary", "model_evidence_kind"]


def model_evidence_kind(kind: str) -> str:
    """The kind recorded for evidence a model cited: never one of the code-derived kinds.

    The implementer lets only code-derived evidence (stack frames, blame, history) widen the files a
    fix may touch without approval, so a model saying ``stack_frame`` gets ``model_stack_frame``.
    """
    cleaned = kind.strip()[:40] or "code"
    return f"model_{cleaned}"[:40] if cleaned in CODE_EVIDENCE_KINDS else cleaned


@dataclass(frozen=True, slots=True)
class SuspectSummary:
    """The suspect commit as the providers see it (dates and diff included)."""

    sha: str
    author: str
    date: datetime
    subject: str
    landed_before_first_seen: bool
    touches_fault_lines: bool
    deploy_id: str | None = None
    removed_lines: tuple[str, ...] = ()  # deleted from the fault file
    added_lines: tuple[str, ...] = ()  # added to the fault file
    diff: str = ""
    hunk_removed: tuple[str, ...] = ()  # the fault hunk: what the fault lines replaced
    hunk_added: tuple[str, ...] = ()
    other_removed: tuple[str, ...] = ()  # deleted from the commit's other files
    fault_file_added: bool = False  # the commit created the fault file
    modifies_other_files: bool = False  # the commit also changed files that existed before (besides tests)
    name_change: NameChange | None = None  # the missing name this commit removed or renamed (history search)
    name_change_clean: bool = False  # renamed with the same signature and body: the caller update is the fix


@dataclass(frozen=True, slots=True)
class OriginSummary:
    """A callee in another file that can return nothing and that a commit changed shortly before the issue."""

    callee: str  # the function the bad value came from
    file: str
    first: int  # the callee's lines the commit changed (its hunk around the line that returns nothing)
    last: int
    line: int  # the line that returns nothing (or looks the value up)
    text: str
    commit: SuspectSummary


@dataclass(frozen=True, slots=True)
class Investigation:
    """Everything gathered about an issue before a provider reasons about it."""

    title: str
    message: str
    exception: ExceptionInfo | None
    frames: tuple[StackFrame, ...]
    first_seen: datetime
    language: str
    context: CodeContext | None  # the culprit's code context (None when nothing maps to the repo)
    other_frames: tuple[CodeContext, ...] = ()  # callers, outermost last
    suspect: SuspectSummary | None = None
    callee_may_return_none: dict[str, str] = field(default_factory=dict)  # function → evidence line
    related: tuple[str, ...] = ()  # "file:line: text" hits from searching the repository
    evidence: tuple[Evidence, ...] = ()  # gathered facts (stack frame, blame, injection flags)
    protected: bool = False  # the culprit file is a protected path
    route: str | None = None
    origin: OriginSummary | None = None  # a recently changed callee the bad value came from (item 8)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What a provider concluded."""

    root_cause: str
    affected_file: str | None
    affected_lines: tuple[int, int] | None
    affected_function: str | None
    fix_strategy: FixStrategy
    confidence: float
    fixability: float
    estimated_fix_minutes: int
    fix_hint: str | None = None
    evidence: tuple[Evidence, ...] = ()
    needs_human: bool = False
    provider: str = "playbook"
    model: str | None = None
    tokens: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    origin: ValueOrigin | None = None  # where the bad value came from, when not the crash site

    def adjusted(self, *, confidence: float | None = None, **changes: object) -> Diagnosis:
        """A copy with changes; confidence clamped to [0, 1]."""
        if confidence is not None:
            changes["confidence"] = round(min(max(confidence, 0.0), 1.0), 3)
        return replace(self, **changes)  # type: ignore[arg-type]
