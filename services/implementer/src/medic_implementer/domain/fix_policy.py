"""The decisions implement_fix takes before and after the search: whether to try at all, and what policy says."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from medic_contracts import Decision, DiagnosisReady, FixStrategy, MedicConfig, PolicyFacts, Stage, decide

from .candidates import diff_lines
from .guard import GuardVerdict, PathRuling

__all__ = ["asks_for_human", "fix_decision"]


def asks_for_human(diagnosis: DiagnosisReady, *, approved: bool, has_proposer: bool) -> bool:
    """True when the diagnosis says this is not for an automatic fix and nothing could still make one
    (no human-approved diff, no LLM fixer to try)."""
    wants_human = diagnosis.needs_human or diagnosis.fix_strategy is FixStrategy.NEEDS_HUMAN
    return not approved and wants_human and not has_proposer


def fix_decision(
    config: MedicConfig,
    diagnosis: DiagnosisReady,
    *,
    diff: str,
    verdicts: Sequence[GuardVerdict],
    within_evidence: bool,
    now: datetime,
    paused: bool,
    verified: bool = True,
    unverified_reason: str = "",
) -> Decision:
    """The policy's decision on committing ``diff`` (its path verdicts, evidence scope and the release gate's
    verdict: ``verified`` False makes it wait for a human, code ``unverified``) at the fix stage."""
    return decide(
        config,
        PolicyFacts(
            issue=diagnosis.issue,
            stage=Stage.FIX,
            now=now,
            paused=paused,
            diff_lines=diff_lines(diff),
            touches_approval_paths=any(v.ruling is PathRuling.NEEDS_APPROVAL for v in verdicts),
            outside_evidence=not within_evidence,
            fix_verified=verified,
            unverified_reason=unverified_reason,
        ),
    )
