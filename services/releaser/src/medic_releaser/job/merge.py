"""The merge step: the fix into staging (its pull request, or its branch), or staging into the default branch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, DeploymentOutcome, DeploymentStage
from medic_runtime import WorkContext

from ..domain.errors import ForgeError
from ..domain.runs import Phase, ReleaseRun, RunStatus
from ..domain.transitions import Finish
from . import Continue

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["merge"]


async def _merge_into(w: Rollout, run: ReleaseRun, branch: str) -> str:
    """Merge what this stage releases into ``branch``; the merge commit's sha."""
    fix, target = run.fix, w.target.target
    if run.stage is not DeploymentStage.STAGING:
        message = f"Medic: promote {target.staging_branch} to {branch} for {run.issue_id}"
        return await w.forge.merge_branch(source=target.staging_branch, target=branch, message=message)
    message = f"Medic: merge fix for {run.issue_id} ({fix.commit_sha[:12]})"
    number = fix.pr_number
    if number is None:
        pr = await w.forge.find_pull_request(head=fix.branch, base=branch)
        number = pr.number if pr else None
    if number is not None:
        return await w.forge.merge_pull_request(number=number, message=message)
    return await w.forge.merge_branch(source=fix.branch, target=branch, message=message)


async def merge(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Merge, remembering the branch head before it (a merge that added nothing has nothing to revert)."""
    w.require_running(ctx, run, "releaser.merge")
    state = run.state()
    branch = w.branch(run.stage)
    try:
        before = await w.forge.branch_head(branch=branch)
        sha = await _merge_into(w, run, branch)
    except ForgeError as exc:
        reason = f"merge into {branch} failed: {exc}"
        return await w.finish(run, ctx, Finish(DeploymentOutcome.FAILED, reason, RunStatus.FAILED))
    w.record(
        ctx,
        run,
        "merge",
        ActionStatus.SUCCEEDED,
        f"merged into {branch} at {sha[:12]}",
        branch=branch,
        sha=sha,
        before=before,
    )
    state = state.model_copy(update={"pre_merge_sha": before, "merge_sha": sha})
    await w.commit(run.model_copy(update={run.stage.value: state, "phase": Phase.DEPLOY}), ctx)
    raise Continue
