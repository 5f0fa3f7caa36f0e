"""The gate step: ask the release policy whether this stage may start now, and wait for approvals."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from medic_contracts import ActionStatus, ApprovalKind, ApprovalRequested, DeploymentOutcome, MedicConfig, Verdict
from medic_runtime import RetryLater, WorkContext

from ..domain.gate import GateCounters, evaluate_gate
from ..domain.runs import Phase, ReleaseRun, RunStatus
from ..domain.transitions import Finish, GateAction, approval_ttl, gate_step
from ..domain.transitions import manual_rollback as manual_rollback_verdict
from . import Continue

if TYPE_CHECKING:
    from ..worker import Rollout

__all__ = ["gate", "manual_rollback"]


async def manual_rollback(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """A human asked for a rollback before or between watches: undo what is deployed, or cancel."""
    verdict = manual_rollback_verdict(run)
    run = run.model_copy(update={"stage": verdict.stage, "status": RunStatus.ACTIVE})
    if verdict.cancel:
        return await w.finish(run, ctx, Finish(DeploymentOutcome.BLOCKED, verdict.reason, RunStatus.REJECTED))
    return await w.begin_rollback(run, ctx, verdict.reason, DeploymentOutcome.ROLLED_BACK, ())


async def _counters(w: Rollout, run: ReleaseRun, config: MedicConfig | None) -> GateCounters:
    zone = ZoneInfo(config.business_hours.timezone if config else "UTC")
    local_now = w.clock().astimezone(zone)
    midnight = datetime.combine(local_now.date(), datetime.min.time(), tzinfo=zone)
    return GateCounters(
        deploys_today=await w.runs.deploys_since(target=run.target, since=midnight.timestamp()),
        rollbacks_for_issue=await w.runs.rollbacks_for(issue_id=run.issue_id),
    )


async def gate(w: Rollout, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
    """Proceed to the baseline, ask for an approval, wait for one, or stay blocked (announced once per reason)."""
    state = run.state()
    config = w.rt.config()
    now = w.clock()
    decision = evaluate_gate(
        config=config,
        issue=run.issue,
        stage=run.stage,
        now=now,
        paused=w.rt.paused,
        counters=await _counters(w, run, config),
        approved=state.approved_by is not None,
        tests=run.fix.tests,
        verified=run.fix.verified,
        verification=run.fix.verification or "",
    )
    release = w.target.release
    step = gate_step(
        decision=decision,
        stage=run.stage,
        state=state,
        last_verdict=run.last_verdict,
        approval_ttl_s=approval_ttl(config).total_seconds(),
        now=now,
        now_s=time.time(),
        blocked_retry_s=release.blocked_retry_s,
    )
    if step.action is GateAction.PROCEED:
        w.record(
            ctx,
            run,
            "gate",
            ActionStatus.SUCCEEDED,
            f"{run.stage.value}: proceed — {decision.reason}",
            verdict=decision.verdict.value,
            reason=decision.reason,
        )
        run = run.model_copy(update={"phase": Phase.BASELINE, "status": RunStatus.ACTIVE, "last_verdict": step.key})
        await w.commit(run, ctx)
        raise Continue
    if step.action is GateAction.REQUEST_APPROVAL:
        return await _request_approval(w, run, ctx, reason=decision.reason, config=config, key=step.key)
    if step.action is GateAction.APPROVAL_EXPIRED:
        return await w.finish(run, ctx, Finish(DeploymentOutcome.BLOCKED, "approval expired", RunStatus.REJECTED))
    if step.action is GateAction.AWAIT_APPROVAL:
        raise RetryLater(release.approval_poll_s, f"waiting for approval {state.approval_id}")
    if step.announce:
        w.record(
            ctx,
            run,
            "gate",
            ActionStatus.REFUSED,
            f"{run.stage.value}: blocked — {decision.reason}",
            verdict=decision.verdict.value,
            reason=decision.reason,
            retry_at=decision.retry_at.isoformat() if decision.retry_at else None,
        )
        w.result(ctx, run, DeploymentOutcome.BLOCKED, decision.reason)
        run = await w.commit(
            run.model_copy(update={"status": RunStatus.BLOCKED, "reason": decision.reason, "last_verdict": step.key}), ctx
        )
        await w.notify(run, DeploymentOutcome.BLOCKED, decision.reason)
    raise RetryLater(release.blocked_retry_s if step.retry_s is None else step.retry_s, f"blocked: {decision.reason}")


async def _request_approval(
    w: Rollout, run: ReleaseRun, ctx: WorkContext, *, reason: str, config: MedicConfig | None, key: str
) -> ReleaseRun:
    approval_id = f"apr_{run.run_id}_{run.stage.value}"
    fix = run.fix
    w.emit(
        ctx,
        fix.follow_up(
            ApprovalRequested,
            producer=w.rt.producer,
            approval_id=approval_id,
            kind=ApprovalKind.DEPLOY,
            requested_by=f"releaser/{w.holder}",
            reason=reason,
            summary=f"deploy {fix.commit_sha[:12]} ({fix.branch}) to {run.stage.value}: {fix.issue.title}"[:5000],
            diff=fix.diff,
            diff_hash=fix.diff_hash,
            expires_at=w.clock() + approval_ttl(config),
            issue=fix.issue,
        ),
    )
    state = run.state().model_copy(
        update={"approval_id": approval_id, "approval_requested": True, "approval_requested_at": time.time()}
    )
    run = run.model_copy(
        update={
            run.stage.value: state,
            "status": RunStatus.AWAITING_APPROVAL,
            "reason": reason,
            "last_verdict": key,
        }
    )
    w.record(
        ctx,
        run,
        "gate",
        ActionStatus.SKIPPED,
        f"{run.stage.value}: needs approval — {reason}",
        verdict=Verdict.NEEDS_APPROVAL.value,
        reason=reason,
        approval_id=approval_id,
    )
    w.result(ctx, run, DeploymentOutcome.AWAITING_APPROVAL, reason)
    run = await w.commit(run, ctx)
    await w.notify(run, DeploymentOutcome.AWAITING_APPROVAL, reason)
    raise RetryLater(w.target.release.approval_poll_s, f"waiting for approval {approval_id}")
