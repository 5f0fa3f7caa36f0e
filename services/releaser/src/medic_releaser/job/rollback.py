"""The rollback step: redeploy what served before, revert our merges, and end the run with its outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, DeploymentOutcome
from medic_runtime import WorkContext

from ..domain.errors import DeployError, ForgeError
from ..domain.runs import ReleaseRun
from ..domain.transitions import Finish, revert_stages, rollback_status

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["rollback"]


async def rollback(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Redeploy once, revert once (each saved), then finish; problems on the way are part of the reason."""
    w.require_running(ctx, run, "releaser.rollback")
    state = run.state()
    reason = run.rollback_reason or "rollback"
    outcome = DeploymentOutcome(state.outcome or DeploymentOutcome.ROLLED_BACK.value)
    problems: list[str] = []
    if not state.redeployed:
        if state.deploy_key is not None:
            await _redeploy(w, run, ctx, problems)
        state = state.model_copy(update={"redeployed": True})
        run = await w.commit(run.model_copy(update={run.stage.value: state}), ctx, ledger="rollback")
    if state.reverted_sha is None:
        state = state.model_copy(update={"reverted_sha": await _revert(w, run, ctx, problems)})
        run = await w.commit(run.model_copy(update={run.stage.value: state}), ctx)
    if problems:
        reason = f"{reason}; {'; '.join(problems)}"
    return await w.finish(run, ctx, Finish(outcome, reason, rollback_status(outcome), tuple(state.verdicts)))


async def _redeploy(w: Rollout, run: ReleaseRun, ctx: WorkContext, problems: list[str]) -> None:
    """Serve the previous good deployment on the stage again."""
    state = run.state()
    try:
        now_serving = await w.deployer.rollback(
            stage=run.stage,
            to=state.previous,
            failed=state.deployment,
            key=f"{run.run_id}:{run.stage.value}:rollback",
        )
    except (DeployError, ForgeError) as exc:
        problems.append(f"redeploy failed: {exc}")
        w.record(ctx, run, "redeploy", ActionStatus.FAILED, f"redeploying the previous deployment failed: {exc}")
        return
    summary = f"{run.stage.value} serves {now_serving.id if now_serving else 'nothing'} again"
    w.record(ctx, run, "redeploy", ActionStatus.SUCCEEDED, summary, deployment=now_serving.id if now_serving else None)


async def _revert(w: Rollout, run: ReleaseRun, ctx: WorkContext, problems: list[str]) -> str:
    """Revert the stage's merge on its branch (production also reverts staging's); '-' when nothing to revert."""
    reverted = ""
    for stage in revert_stages(run.stage):
        st = run.state(stage)
        if not st.merge_sha or st.merge_sha == st.pre_merge_sha:
            continue  # the merge added nothing: there is nothing of ours to revert
        branch = w.branch(stage)
        try:
            sha = await w.forge.revert_commit(
                branch=branch,
                sha=st.merge_sha,
                message=f"Medic: revert fix for {run.issue_id} ({run.rollback_reason or ''})"[:200],
            )
        except ForgeError as exc:
            problems.append(f"revert on {branch} failed: {exc}")
            w.record(ctx, run, "revert", ActionStatus.FAILED, f"reverting {st.merge_sha[:12]} on {branch} failed: {exc}")
            continue
        w.record(
            ctx,
            run,
            "revert",
            ActionStatus.SUCCEEDED,
            f"reverted {st.merge_sha[:12]} on {branch} as {sha[:12]}",
            branch=branch,
            sha=sha,
        )
        if stage is run.stage:
            reverted = sha
    return reverted or "-"
