"""The smoke step: the configured HTTP checks right after the deploy; passing them starts the watch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from medic_contracts import ActionStatus, DeploymentOutcome
from medic_runtime import WorkContext

from ..adapters.sources import run_smoke
from ..domain.analysis import WatchState
from ..domain.runs import Phase, ReleaseRun
from ..domain.transitions import smoke_verdict
from . import Continue

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["smoke"]


async def smoke(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Run the smoke checks; a failure rolls back, a pass opens the watch window."""
    state = run.state()
    checks = w.target.release.checks(run.stage)
    probe = w.probe(run)
    first = await probe.scrape()  # the watch's counters start here: smoke traffic is in the first sample
    verdict = smoke_verdict(await run_smoke(checks.smoke))
    if not verdict.passed:
        reason = f"smoke tests failed: {verdict.detail}"
        return await w.begin_rollback(run, ctx, reason, DeploymentOutcome.ROLLED_BACK, (verdict,))
    w.record(ctx, run, "smoke", ActionStatus.SUCCEEDED, verdict.detail)
    baseline_offset = state.baseline.log_offset if state.baseline else None
    offset = state.serving_log_offset if state.serving_log_offset is not None else baseline_offset
    watch = WatchState(previous=first, log_offset=offset, started_at=time.time())
    window = w.target.release.watch_s(run.stage)
    until = time.time() + window
    state = state.model_copy(update={"watch": watch, "watch_until": until, "verdicts": [verdict]})
    w.record(ctx, run, "watch", ActionStatus.STARTED, f"watching {run.stage.value} for {window:.0f}s", watch_until=until)
    await w.commit(run.model_copy(update={run.stage.value: state, "phase": Phase.WATCH}), ctx)
    raise Continue
