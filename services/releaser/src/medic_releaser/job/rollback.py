"""The rollback step: redeploy what served before, revert our merges, and end the run with its outcome."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, DeploymentOutcome
from medic_runtime import WorkContext

from ..domain.errors import DeployError, ForgeError
from ..domain.runs import DeploymentRef, DeploymentStatus, ReleaseRun
from ..domain.transitions import DeployAction, Finish, deploy_step, revert_stages, rollback_status

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["rollback"]

log = logging.getLogger("medic.releaser.rollout")


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
    problem = await _wait_ready(w, run, now_serving) if now_serving is not None else None
    if problem is not None:
        problems.append(problem)
        w.record(ctx, run, "redeploy", ActionStatus.FAILED, problem, deployment=now_serving.id if now_serving else None)
        return
    summary = f"{run.stage.value} serves {now_serving.id if now_serving else 'nothing'} again"
    w.record(ctx, run, "redeploy", ActionStatus.SUCCEEDED, summary, deployment=now_serving.id if now_serving else None)


async def _wait_ready(w: Rollout, run: ReleaseRun, deployment: DeploymentRef) -> str | None:
    """Wait (bounded by the deploy timeout) until the redeployed release answers; the problem if it never does.

    A rollback is not done when the old release was merely started: it is done when it serves. A crash
    while waiting redeploys with the same key (the deployer adopts the started one) and waits again.
    """
    started = time.monotonic()
    timeout_s = w.target.release.deploy_timeout_s
    while True:
        try:
            status = await w.deployer.status(stage=run.stage, deployment=deployment)
        except DeployError as exc:
            log.warning("redeployed release status unavailable: %s", exc)
            status = DeploymentStatus.BUILDING
        action = deploy_step(status=status, elapsed_s=time.monotonic() - started, timeout_s=timeout_s)
        if action is DeployAction.ACTIVATE:
            return None
        if action is DeployAction.FAILED:
            return f"redeployed {deployment.id} failed to start"
        if action is DeployAction.TIMED_OUT:
            return f"redeployed {deployment.id} not ready after {timeout_s:.0f}s"
        await asyncio.sleep(min(w.target.deployer.poll_s, 0.5))


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
