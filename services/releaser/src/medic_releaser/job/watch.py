"""The watch step: sample the stage until its window is observed, then promote; any failure rolls back."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, CheckVerdict, DeploymentOutcome
from medic_runtime import RetryLater, WorkContext

from ..adapters.sources import active_checks
from ..domain.analysis import final_verdicts, record_sample
from ..domain.runs import Phase, ReleaseRun, RunStatus
from ..domain.transitions import WatchAction, next_stage, watch_end, watch_interrupt, watch_sample_failed
from ..domain.watch import max_gap_for, sample_coverage, watch_progress
from . import Continue

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["watch"]

#: Unobserved stretches kept on a watch (for the audit trail); older ones are dropped.
MAX_GAPS_KEPT = 20


async def watch(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Take one sample (or decide at the end of the window); RetryLater until the next sample is due."""
    state = run.state()
    release = w.target.release
    interrupt = watch_interrupt(run)
    if interrupt is not None:
        return await w.begin_rollback(run, ctx, interrupt.reason, interrupt.outcome, interrupt.verdicts)
    active = active_checks(release.checks(run.stage))
    baseline = state.baseline
    assert baseline is not None
    window = release.watch_s(run.stage)
    if watch_progress(observed_s=state.watch.observed_s, window_s=window).complete:
        w.require_running(ctx, run, "releaser.promote")
        end = watch_end(tuple(state.verdicts) + tuple(final_verdicts(state.watch, active)))
        if end.action is WatchAction.ROLL_BACK:
            return await w.begin_rollback(run, ctx, end.reason, end.outcome, end.verdicts)
        return await _promote(w, run, ctx, end.verdicts)
    watch = state.watch.model_copy(deep=True)
    observation = await w.probe(run).observe(watch)
    now = time.time()
    sample = sample_coverage(
        last_at=watch.last_sample_at or watch.started_at, now=now, max_gap_s=max_gap_for(release.sample_interval_s)
    )
    watch.observed_s += sample.covered_s
    watch.last_sample_at = now
    failed = record_sample(watch, observation, baseline, w.limits, active, after_gap=sample.after_gap)
    coverage = watch_progress(observed_s=watch.observed_s, window_s=window)
    if sample.after_gap:
        gap_end = now - sample.covered_s
        watch.unobserved = [*watch.unobserved, (gap_end - sample.gap_s, gap_end)][-MAX_GAPS_KEPT:]
        w.record(
            ctx,
            run,
            "watch_resumed",
            ActionStatus.STARTED,
            f"{run.stage.value} went {sample.gap_s:.1f}s unobserved (a restart or a pause): "
            f"that time does not count, {coverage.remaining_s:.1f}s of the window left",
            unobserved_s=round(sample.gap_s, 3),
            observed_s=round(watch.observed_s, 3),
        )
    state = state.model_copy(update={"watch": watch, "watch_until": now + coverage.remaining_s})
    run = run.model_copy(update={run.stage.value: state})
    verdicts = tuple(state.verdicts) + tuple(final_verdicts(watch, active)) if failed else ()
    step = watch_sample_failed(failed=failed, verdicts=verdicts, stage=run.stage)
    if step.action is WatchAction.ROLL_BACK:
        return await w.begin_rollback(run, ctx, step.reason, step.outcome, step.verdicts)
    await w.commit(run, ctx)
    raise RetryLater(max(min(release.sample_interval_s, coverage.remaining_s), 0.05), "watching")


async def _promote(w: Rollout, run: ReleaseRun, ctx: WorkContext, verdicts: tuple[CheckVerdict, ...]) -> ReleaseRun:
    """Every check held: announce the promotion; staging goes on to production's gate, production is done."""
    watched = run.state().watch
    unobserved = sum(end - start for start, end in watched.unobserved)
    reason = f"all checks held for {watched.observed_s:.0f}s observed" + (
        f" (besides {unobserved:.0f}s unobserved, not counted)" if unobserved else ""
    )
    state = run.state().model_copy(update={"verdicts": list(verdicts), "outcome": DeploymentOutcome.PROMOTED.value})
    run = run.model_copy(update={run.stage.value: state})
    w.record(
        ctx,
        run,
        "watch",
        ActionStatus.SUCCEEDED,
        f"{run.stage.value} healthy: {reason}",
        verdicts=[v.model_dump(mode="json") for v in verdicts],
    )
    w.result(ctx, run, DeploymentOutcome.PROMOTED, reason, checks=verdicts)
    following = next_stage(run.stage)
    if following is not None:
        promoted = run.stage
        run = await w.commit(run.model_copy(update={"stage": following, "phase": Phase.GATE, "last_verdict": None}), ctx)
        await w.notify(run, DeploymentOutcome.PROMOTED, reason, stage=promoted, checks=verdicts)
        raise Continue
    run = await w.commit(run.model_copy(update={"phase": Phase.DONE, "status": RunStatus.PROMOTED, "reason": reason}), ctx)
    await w.notify(run, DeploymentOutcome.PROMOTED, reason, checks=verdicts)
    return run
