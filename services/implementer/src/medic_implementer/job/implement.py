"""The fix job's driver: one diagnosis in, one :class:`FixOutcome` out, each step in its own module.

:func:`implement_fix` is what the service's ``fix`` worker runs and what ``medic implement`` and
``medic bench fix`` call: resume a commit this event already made (:mod:`.resume`); else, in an
isolated worktree on ``agent/fix-<issue>`` at the deployed commit, on the target's own environment
(:mod:`.environment`), reproduce the failure on the unfixed code (:mod:`.reproduce`), collect candidate
fixes — templates, reverts of the suspect commit, the LLM fixer when configured (:mod:`.candidates`) — each
validated by the target's tests in a sandbox and verified against the reproduction, pinned to its new
outcome (:mod:`.validate`, :mod:`.regression`); keep the best within the path guard, the release gate and
the policy (:mod:`.choose`: an unreproduced or unverified fix waits for a human); then a signed commit with
``Medic-*`` trailers, a push and a pull request into staging (:mod:`.deliver`). A message-only event gets no
write at all.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from medic_contracts import DiagnosisReady, Evidence, MedicConfig, RequestContext, TargetConfig, utcnow

from ..adapters.forge import Forge
from ..adapters.git import Git
from ..adapters.testrun import TestRunner
from ..adapters.workspace import fix_branch, open_workspace, resolve_base
from ..domain.candidates import candidate_summaries, diff_hash
from ..domain.fix_policy import asks_for_human
from ..domain.guard import final_diff_verdicts, guard_for
from ..domain.outcome import ApprovedFix, FixOutcome, OutcomeKind
from ..domain.pull_request import pr_body, pr_title, risk
from ..domain.release_gate import write_verdict
from ..domain.strategy_memory import StrategyRecall
from .choose import approved_fix, chosen_fix
from .context import Audit, FixJob, FixOptions, SideEffectCheck, allow, no_audit
from .deliver import commit_fix, deliver
from .environment import use_target_environment
from .resume import find_own_commit, resume

__all__ = ["implement_fix", "protected_writes"]


async def protected_writes(
    *, repo: Path, base: str, head: str, target: TargetConfig, config: MedicConfig | None = None
) -> list[str]:
    """Files changed between ``base`` and ``head`` that the guard refuses (the benchmark's "protected paths untouched")."""
    git = Git(repo)
    guard = guard_for(target, config, repo)
    return list(dict.fromkeys(v.path for v in final_diff_verdicts(guard, await git.changes(base, head))))


async def implement_fix(
    diagnosis: DiagnosisReady,
    *,
    target: TargetConfig,
    repo: Path,
    options: FixOptions,
    config: MedicConfig | None = None,
    forge: Forge | None = None,
    request: RequestContext | None = None,
    approved: ApprovedFix | None = None,
    attempt: int = 1,
    paused: bool = False,
    before_side_effect: SideEffectCheck = allow,
    audit: Audit = no_audit,
    now: datetime | None = None,
    recall: StrategyRecall | None = None,
) -> FixOutcome:
    """Make, validate, guard, commit and deliver a fix for ``diagnosis`` (see the module docstring).

    ``config`` is the Medic configuration policy is evaluated with (default: Medic's defaults);
    ``request`` the failing request when the caller has it (else taken from ``request`` evidence);
    ``approved`` a fix a human approved, applied instead of searching again; ``before_side_effect``
    raises to refuse a commit or push (the service's pause gate); ``recall`` what the strategy memory
    recalls for similar issues (strategies to try last, per-strategy confidence).
    """
    config = config if config is not None else MedicConfig()
    if request is not None:
        ev = (Evidence(kind="request", summary="failing request", detail=request.model_dump_json()), *diagnosis.evidence)
        diagnosis = diagnosis.model_copy(update={"evidence": ev})
    job = FixJob(
        diagnosis=diagnosis,
        target=target,
        options=options,
        audit=audit,
        runner=TestRunner(options.limits),
        branch=fix_branch(diagnosis.issue_id),
        attempt=attempt,
        before_side_effect=before_side_effect,
        recall=recall or StrategyRecall(),
    )
    git = Git(repo)

    existing = await find_own_commit(git, forge, branch=job.branch, event_id=diagnosis.event_id)
    if existing is not None:
        return await resume(job, git, forge, existing)

    if asks_for_human(diagnosis, approved=approved is not None, has_proposer=options.proposer is not None):
        return job.outcome(OutcomeKind.NEEDS_HUMAN, ("the diagnosis asks for a human",))
    if approved is None and not (writable := write_verdict(diagnosis)).allowed:
        return job.outcome(OutcomeKind.NEEDS_HUMAN, (writable.reason,))

    if diagnosis.affected_file is not None:
        verdict = guard_for(target, config, repo).check(diagnosis.affected_file)
        if verdict.refused:
            job.refuse(diagnosis.affected_file, verdict.reason, "diagnosis")
            return job.outcome(
                OutcomeKind.REFUSED, (f"{diagnosis.affected_file}: {verdict.reason}; a human must make this change",)
            )

    base = (
        approved.base_sha
        if approved
        else await resolve_base(git, commit_sha=diagnosis.issue.commit_sha, default_branch=target.default_branch)
    )
    async with open_workspace(
        repo=repo, root=options.workspace_root, issue_id=diagnosis.issue_id, base_sha=base, attempt=attempt
    ) as ws:
        guard = guard_for(target, config, ws.path)
        if target.setup_command:
            setup = await TestRunner(replace(options.limits, isolate_network=False)).run(target.setup_command, cwd=ws.path)
            if not setup.passed:
                return job.outcome(OutcomeKind.NO_FIX, (f"setup command failed: {setup.report.summary[-500:]}",), base_sha=base)
        use_target_environment(job, ws.path)
        if approved is not None:
            chosen = approved_fix(job, guard, approved, base=base)
        else:
            chosen = await chosen_fix(job, ws, guard, base=base, config=config, now=now or utcnow(), paused=paused)
        if isinstance(chosen, FixOutcome):
            return chosen
        before_side_effect("git.commit")
        sha = await commit_fix(job, ws, guard, chosen)
        if isinstance(sha, FixOutcome):
            return sha
    signature = await options.signer.verify(git, sha)
    body = pr_body(
        diagnosis,
        description=chosen.description,
        diff=chosen.diff,
        tests=chosen.tests,
        regression_test=chosen.regression_test,
        risk=risk(chosen.diff, chosen.within_evidence, chosen.strategy),
    )
    pr_url, pr_number = await deliver(job, git, forge, title=pr_title(diagnosis), body=body)
    return job.outcome(
        OutcomeKind.COMMITTED,
        ("approved by a human",) if chosen.approved else ("fix within policy",),
        base_sha=base,
        commit_sha=sha,
        files_changed=chosen.files,
        diff=chosen.diff,
        diff_hash=diff_hash(chosen.diff),
        strategy=chosen.strategy,
        description=chosen.description,
        regression_test=chosen.regression_test,
        tests=chosen.tests,
        pr_url=pr_url,
        pr_number=pr_number,
        signature=signature,
        needs_approval=chosen.approved,
        candidates=candidate_summaries(list(chosen.candidates), job.recall),
        reproduced=chosen.reproduced,
        verified=chosen.verified,
        verification=chosen.verification,
    )
