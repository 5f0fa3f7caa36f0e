"""Choose step: the fix to commit — a human-approved diff re-checked, or the best candidate within the path
guard and the policy — or the outcome that stops the job here."""

from __future__ import annotations

from datetime import datetime

from medic_contracts import MedicConfig, Verdict

from ..adapters.workspace import Workspace
from ..domain.candidates import best_candidate, candidate_summaries, diff_hash, diff_paths
from ..domain.errors import FixRefused
from ..domain.fix_policy import fix_decision
from ..domain.guard import PathGuard
from ..domain.outcome import ApprovedFix, ChosenFix, FixOutcome, OutcomeKind
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
    )


async def chosen_fix(
    job: FixJob, ws: Workspace, guard: PathGuard, *, base: str, config: MedicConfig, now: datetime, paused: bool
) -> ChosenFix | FixOutcome:
    """Search the candidates and keep the best, unless a path is refused or the policy wants approval or blocks it."""
    try:
        candidates, regression = await collect_candidates(job, ws, guard)
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
    chosen = ChosenFix(
        diff=best.diff,
        strategy=best.strategy,
        description=best.description,
        tests=best.tests,
        regression_test=regression.path if regression is not None and best.reproduced else None,
        within_evidence=best.within_evidence,
        files=files,
        approved=False,
        candidates=tuple(candidates),
    )
    decision = fix_decision(
        config, job.diagnosis, diff=best.diff, verdicts=verdicts, within_evidence=best.within_evidence, now=now, paused=paused
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
    )
