"""The deploy step: record the intent, start (or adopt) the deployment, wait until it is ready, switch to it."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, DeploymentOutcome, DeploymentStage
from medic_runtime import RetryLater, WorkContext

from ..domain.errors import DeployError, ForgeError
from ..domain.runs import DeploymentRef, DeploymentStatus, Phase, ReleaseRun
from ..domain.transitions import DeployAction, deploy_step
from . import Continue

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["deploy"]

log = logging.getLogger("medic.releaser.rollout")


async def _start(w: Rollout, run: ReleaseRun, ctx: WorkContext, key: str) -> DeploymentRef:
    """The deployment started under ``key`` before a restart (adopted), or a new one."""
    state = run.state()
    found = await w.deployer.find(stage=run.stage, key=key)
    if found is None:
        sha = state.merge_sha or run.fix.commit_sha
        return await w.deployer.start(stage=run.stage, ref=w.branch(run.stage), sha=sha, key=key)
    w.record(
        ctx,
        run,
        "reconcile",
        ActionStatus.SUCCEEDED,
        f"deployment {found.id} started before a restart was found and adopted",
        deployment=found.id,
    )
    return found


async def deploy(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Deploy the merge; a failed, timed-out or unactivatable deployment rolls the stage back."""
    w.require_running(ctx, run, "releaser.deploy")
    state = run.state()
    release = w.target.release
    if state.deploy_key is None:
        # The intent is durable before the deployer hears of it: a crash after this is reconciled.
        previous = state.pre_merge_release or await w.deployer.current(stage=run.stage)
        key = f"{run.run_id}:{run.stage.value}"
        state = state.model_copy(update={"previous": previous, "deploy_key": key, "deploy_started_at": time.time()})
        w.record(
            ctx,
            run,
            "deploy",
            ActionStatus.STARTED,
            f"deploying {(state.merge_sha or '')[:12]} to {run.stage.value} with {w.deployer.name}",
            deploy_key=key,
            previous=previous.id if previous else None,
        )
        ledger = "deploy" if run.stage is DeploymentStage.PRODUCTION else None
        run = await w.commit(run.model_copy(update={run.stage.value: state}), ctx, ledger=ledger)
    if state.deployment is None:
        try:
            started = await _start(w, run, ctx, state.deploy_key or "")
        except (DeployError, ForgeError) as exc:
            return await w.begin_rollback(run, ctx, f"deploy failed: {exc}", DeploymentOutcome.FAILED, ())
        state = state.model_copy(update={"deployment": started})
        run = await w.commit(run.model_copy(update={run.stage.value: state}), ctx)
    deployment = state.deployment
    if deployment is None:  # unreachable: set just above; keeps the type checker honest
        raise RetryLater(1.0, "deployment not recorded yet")
    try:
        status = await w.deployer.status(stage=run.stage, deployment=deployment)
    except DeployError as exc:
        status = DeploymentStatus.BUILDING
        log.warning("deployment status unavailable: %s", exc)
    elapsed = time.time() - (state.deploy_started_at or time.time())
    action = deploy_step(status=status, elapsed_s=elapsed, timeout_s=release.deploy_timeout_s)
    if action is DeployAction.TIMED_OUT:
        reason = f"deployment {deployment.id} not ready after {release.deploy_timeout_s:.0f}s"
        return await w.begin_rollback(run, ctx, reason, DeploymentOutcome.FAILED, ())
    if action is DeployAction.WAIT:
        raise RetryLater(min(w.target.deployer.poll_s, 5.0), f"deployment {deployment.id} building")
    if action is DeployAction.FAILED:
        return await w.begin_rollback(run, ctx, f"deployment {deployment.id} failed", DeploymentOutcome.FAILED, ())
    try:
        await w.deployer.activate(stage=run.stage, deployment=deployment)
    except DeployError as exc:
        return await w.begin_rollback(run, ctx, f"activating {deployment.id} failed: {exc}", DeploymentOutcome.FAILED, ())
    w.record(
        ctx,
        run,
        "deploy",
        ActionStatus.SUCCEEDED,
        f"{run.stage.value} serves {deployment.id}",
        deployment=deployment.id,
        url=deployment.url,
    )
    # Errors the previous deployment logged until the switch are not the fix's: the watch reads from here.
    state = state.model_copy(update={"deploy_confirmed": True, "serving_log_offset": w.probe(run).log_size()})
    await w.commit(run.model_copy(update={run.stage.value: state, "phase": Phase.SMOKE}), ctx)
    raise Continue
