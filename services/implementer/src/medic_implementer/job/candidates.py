"""Candidates step: every fix worth testing, each validated in the worktree and the worktree reset after it.

Order: the templates for the affected file (best suited first), then reverts of the suspect commit (finest
first), then the LLM fixer when one is configured and nothing trusted passed (or the diagnosis asks for it).
Strategies the strategy memory says went wrong on a similar issue are tried last; the search stops early once
a candidate no other could outrank has passed.
"""

from __future__ import annotations

import logging

from medic_contracts import FixStrategy

from ..adapters.git import GitError
from ..adapters.testrun import TestRun
from ..adapters.workspace import Workspace
from ..domain.candidates import FixCandidate, best_candidate, cannot_be_outranked, last_revert_passed_cleanly
from ..domain.failure import evidence_files
from ..domain.guard import PathGuard
from ..domain.templates import template_edits
from .context import FixJob, write_guarded
from .reproduce import Reproducer, reproduce
from .reverts import revert_candidates
from .validate import Change, validate_candidate

__all__ = ["collect_candidates"]

log = logging.getLogger("medic.implementer")


async def collect_candidates(job: FixJob, ws: Workspace, guard: PathGuard) -> tuple[list[FixCandidate], Reproducer | None]:
    """The validated candidates and the reproducer they were verified with (None when the failure was not reproduced:
    ``job.reproduction`` says why). Every candidate — template, revert, LLM — is verified the same way.

    Raises :class:`~medic_implementer.domain.errors.FixRefused` when code a candidate ran wrote a protected path.
    """
    diagnosis = job.diagnosis
    evidence = evidence_files(diagnosis)
    reproducer = await reproduce(job, ws, guard)
    has_test = reproducer is not None
    suggested = diagnosis.fix_strategy

    def settled(candidate: FixCandidate | None) -> bool:
        return candidate is not None and cannot_be_outranked(
            candidate, suggested=suggested, has_regression_test=has_test, recall=job.recall
        )

    candidates: list[FixCandidate] = []

    async def validated(change: Change) -> FixCandidate | None:
        """Validate the change the worktree holds; a candidate that came out of it joins ``candidates``."""
        candidate = await validate_candidate(job, ws, guard, change, reproducer=reproducer, evidence=evidence)
        if candidate:
            candidates.append(candidate)
        return candidate

    affected = diagnosis.affected_file
    if affected:
        verdict = guard.check(affected)
        source = ws.path / affected
        if not verdict.refused and source.is_file():
            text = source.read_text(errors="replace")
            edits = template_edits(diagnosis, text, affected, job.target.language)
            # Strategies that went wrong on a similar issue are tried last (stable: the fixer's order otherwise holds).
            edits = sorted(edits, key=lambda e: job.recall.avoided(e.strategy))[: job.options.max_candidates]
            for preference, edit in enumerate(edits):
                write_guarded(guard, edit.path, edit.new_text)
                candidate = await validated(Change((edit.path,), "template", edit.strategy, edit.description, preference))
                await ws.reset()
                if settled(candidate):
                    break

    reverts = (
        [] if settled(best_candidate(candidates, suggested=suggested, recall=job.recall)) else await revert_candidates(job, ws)
    )
    reverts = sorted(reverts, key=lambda r: job.recall.avoided(r[0]))
    for preference, (strategy, description, apply) in enumerate(reverts):
        try:
            files = await apply()
        except (GitError, OSError, UnicodeDecodeError) as exc:
            log.warning("revert candidate %r could not be made: %s", description, exc)
            files = ()
        if files:
            await validated(Change(files, "revert", strategy, description, preference))
        await ws.reset()
        if last_revert_passed_cleanly(candidates, has_regression_test=has_test) and not job.recall.avoided(
            candidates[-1].strategy
        ):
            break  # reverts are tried finest first: a passing one is not beaten by a coarser one

    good = best_candidate(candidates, suggested=suggested, recall=job.recall)
    distrusted = good is not None and job.recall.avoided(good.strategy)
    proposer = job.options.proposer
    if proposer is not None and (good is None or distrusted or suggested is FixStrategy.LLM_EDIT):

        async def run_tests() -> TestRun:
            return await job.runner.run(job.target.test_command, cwd=ws.path)

        proposal = await proposer.propose(
            diagnosis=diagnosis, workspace=ws.path, guard=guard, run_tests=run_tests, audit=job.audit
        )
        if proposal is not None:
            files, description, strategy = proposal
            await validated(Change(files, "claude", strategy, description))
        await ws.reset()
    return candidates, reproducer
