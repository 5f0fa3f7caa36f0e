"""Choose step: the fix to commit — a human-approved diff re-checked, or the best candidate within the path
guard and the policy — or the outcome that stops the job here."""

from __future__ import annotations

from datetime import datetime

from medic_contracts import ActionStatus, MedicConfig, Verdict

from ..adapters.workspace import Workspace
from ..domain.candidates import FixCandidate, best_candidate, candidate_summaries, diff_hash, diff_paths
from ..domain.errors import FixRefused
from ..domain.fix_policy import fix_decision
from ..domain.guard import PathGuard
from ..domain.outcome import ApprovedFix, ChosenFix, FixOutcome, OutcomeKind
from ..domain.release_gate import ReleaseVerdict, fix_confidence, release_verdict
from ..domain.reproduction import Reproduction, ReproductionStatus
from .candidates import collect_candidates
from .context import FixJob

__all__ = ["approved_fix", "chosen_fix"]


def approved_fix(job: FixJob, guard: PathGuard, approved: ApprovedFix, *, base: str) -> ChosenFix | FixOutcome:
    """The diff a human approved, when it still matches its hash and every path it touches may be written."""
    if diff_hash(approved.diff) != approved.diff_hash:
        return job.outcome(OutcomeKind.REFUSED, ("approved diff does not match its hash",), base_sha=base)
    files = diff_paths(approved.diff)
    for path in files:
        verdict = guard.check(path)
        if verdict.refused:
            job.refuse(path, verdict.reason, "approved")
            return job.outcome(OutcomeKind.REFUSED, (f"{path}: {verdict.reason}",), base_sha=base)
    return ChosenFix(
        diff=approved.diff,
        strategy=approved.strategy,
        description=approved.description,
        tests=approved.tests,
        regression_test=approved.regression_test,
        within_evidence=True,
        files=files,
        approved=True,
        verification="approved by a human",
    )


async def chosen_fix(
    job: FixJob, ws: Workspace, guard: PathGuard, *, base: str, config: MedicConfig, now: datetime, paused: bool
) -> ChosenFix | FixOutcome:
    """Search the candidates and keep the best, unless a path is refused or the policy wants approval or blocks it."""
    try:
        candidates, reproducer = await collect_candidates(job, ws, guard)
    except FixRefused as tampered:  # already audited, path by path
        await ws.reset()
        return job.outcome(OutcomeKind.REFUSED, (f"a protected path was written: {tampered.reason}"[:2000],), base_sha=base)
    summaries = candidate_summaries(candidates, job.recall)
    best = best_candidate(candidates, suggested=job.diagnosis.fix_strategy, recall=job.recall)
    if best is None:
        reasons = ("no candidate fix passed the tests",) if candidates else ("no candidate fix could be made",)
        return job.outcome(OutcomeKind.NO_FIX, reasons, base_sha=base, candidates=summaries)
    files = diff_paths(best.diff)
    verdicts = guard.check_all(files)
    refused = [v for v in verdicts if v.refused]
    if refused:  # a refused path in the chosen diff refuses the fix; it is never only "needs approval"
        for verdict in refused:
            job.refuse(verdict.path, verdict.reason, "chosen diff")
        return job.outcome(OutcomeKind.REFUSED, tuple(f"{v.path}: {v.reason}" for v in refused), base_sha=base)
    gate = _gate(job, best)
    chosen = ChosenFix(
        diff=best.diff,
        strategy=best.strategy,
        description=best.description,
        tests=best.tests,
        regression_test=reproducer.test.path if reproducer is not None and best.reproduced else None,
        within_evidence=best.within_evidence,
        files=files,
        approved=False,
        candidates=tuple(candidates),
        reproduced=gate.reproduced,
        verified=gate.verified,
        verification=gate.summary,
    )
    decision = fix_decision(
        config,
        job.diagnosis,
        diff=best.diff,
        verdicts=verdicts,
        within_evidence=best.within_evidence,
        now=now,
        paused=paused,
        verified=gate.releasable,
        unverified_reason=gate.summary,
    )
    if decision.verdict not in (Verdict.NEEDS_APPROVAL, Verdict.BLOCKED):
        return chosen
    waits = decision.verdict is Verdict.NEEDS_APPROVAL
    return job.outcome(
        OutcomeKind.NEEDS_APPROVAL if waits else OutcomeKind.BLOCKED,
        (decision.reason,),
        needs_approval=waits,
        decision=decision,
        base_sha=base,
        files_changed=files,
        diff=chosen.diff,
        diff_hash=diff_hash(chosen.diff),
        strategy=chosen.strategy,
        description=chosen.description,
        regression_test=chosen.regression_test,
        tests=chosen.tests,
        candidates=summaries,
        reproduced=chosen.reproduced,
        verified=chosen.verified,
        verification=chosen.verification,
    )


def _gate(job: FixJob, best: FixCandidate) -> ReleaseVerdict:
    """The release gate's verdict on the best candidate (whichever provider made it), audited with its reasons."""
    reproduction = job.reproduction or Reproduction(ReproductionStatus.NO_REPRODUCER, "no reproduction ran")
    learnt = job.recall.confidence.get(best.strategy)
    verdict = release_verdict(
        reproduction=reproduction,
        verified=best.reproduced,
        verify_reason=best.verify_reason,
        tests_passed=best.passed,
        checks=best.checks,
        behaviour=best.behaviour,
        confidence=fix_confidence(
            diagnosis_confidence=job.diagnosis.confidence,
            strategy_confidence=learnt,
            within_evidence=best.within_evidence,
            verified=reproduction.reproduced and best.reproduced,
        ),
        gate=job.options.gate,
    )
    job.audit(
        "implementer.release_gate",
        ActionStatus.SUCCEEDED if verdict.releasable else ActionStatus.SKIPPED,
        (f"{best.origin} fix releasable: " if verdict.releasable else f"{best.origin} fix waits for a human: ")
        + verdict.summary[:1800],
        {**verdict.details(), "origin": best.origin, "strategy": best.strategy.value},
    )
    return verdict
