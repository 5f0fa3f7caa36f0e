"""The baseline step: measure the stage before anything changes, so the watch can tell a regression from normal."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, DeploymentOutcome, DeploymentStage
from medic_runtime import RetryLater, WorkContext

from ..adapters.sources import active_checks
from ..domain.analysis import WatchState, baseline_gaps
from ..domain.runs import Phase, ReleaseRun, RunStatus
from ..domain.transitions import BaselineAction, Finish, baseline_step
from . import Continue

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["baseline"]


async def baseline(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Scrape, wait the baseline window, measure; retry, give up or (production) undo staging on gaps."""
    state = run.state()
    checks = w.target.release.checks(run.stage)
    probe = w.probe(run)
    window = w.target.release.baseline_s
    if state.baseline_started_at is None:
        first = await probe.scrape()
        state = state.model_copy(update={"baseline_started_at": time.time(), "watch": WatchState(previous=first)})
        run = await w.commit(run.model_copy(update={run.stage.value: state}), ctx)
        if checks.metrics_url:
            raise RetryLater(window, "measuring the baseline")
        raise Continue
    remaining = state.baseline_started_at + window - time.time()
    if checks.metrics_url and remaining > 0:
        raise RetryLater(remaining, "measuring the baseline")
    measured = await probe.baseline(first=state.watch.previous)
    gaps = baseline_gaps(measured, active_checks(checks))
    missing = f" (missing: {', '.join(measured.missing)})" if measured.missing else ""
    w.record(
        ctx,
        run,
        "baseline",
        ActionStatus.SUCCEEDED if not measured.missing else ActionStatus.FAILED,
        f"{run.stage.value} baseline {measured.metrics()}{missing}",
        metrics=measured.metrics(),
        missing=list(measured.missing),
    )
    step = baseline_step(gaps=gaps, attempts=state.baseline_attempts, stage=run.stage)
    if step.action is BaselineAction.ROLL_BACK_STAGING:
        # Staging already runs the fix: undo it there, or the next release's promotion would carry it.
        staging = run.model_copy(update={"stage": DeploymentStage.STAGING})
        return await w.begin_rollback(staging, ctx, step.reason, DeploymentOutcome.FAILED, tuple(gaps))
    if step.action is BaselineAction.GIVE_UP:
        return await w.finish(run, ctx, Finish(DeploymentOutcome.FAILED, step.reason, RunStatus.FAILED, tuple(gaps)))
    if step.action is BaselineAction.RETRY:
        state = state.model_copy(update={"baseline_started_at": None, "baseline_attempts": step.attempts})
        await w.commit(run.model_copy(update={run.stage.value: state}), ctx)
        raise RetryLater(window, f"baseline incomplete ({step.reason}); measuring again")
    # What serves now is what a rollback goes back to: recorded before the merge, while the run holds the slot.
    previous = await w.deployer.current(stage=run.stage)
    state = state.model_copy(update={"baseline": measured, "watch": WatchState(), "pre_merge_release": previous})
    await w.commit(run.model_copy(update={run.stage.value: state, "phase": Phase.MERGE}), ctx)
    raise Continue
