"""The rollout: drives one release run a step at a time from the work queue.

Each call of :meth:`Rollout.drive` (the ``release`` worker) loads the run, takes the target's
lease and the run's stage slots (one release at a time per target and stage), and advances it
through gate → baseline → merge → deploy → smoke → watch for staging, then for production, or
into rollback. Every transition is saved by compare-and-set together with the events it causes
(one store transaction, through the outbox), so a process killed at any point resumes from the
last saved step: a watch resumes for the part of its window nobody observed (domain.watch), an
ambiguous deploy is reconciled against the deployer first. Waiting (for the next sample, an
approval, a deploy window) is :class:`RetryLater`, never a held Kafka message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from medic_contracts import (
    ActionStatus,
    ApprovalKind,
    ApprovalRequested,
    CheckVerdict,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    MedicConfig,
    Verdict,
)
from medic_runtime import RetryLater, ServiceRuntime, WorkContext, WorkItem

from .adapters.deployers import Deployer, DeploymentStatus
from .adapters.forge import Forge
from .adapters.notifiers import Notifier, wants
from .adapters.sources import StageProbe, active_checks, run_smoke
from .adapters.store import RunStore
from .config import ReleaserTarget
from .domain.analysis import CheckName, Thresholds, WatchState, baseline_gaps, final_verdicts, record_sample
from .domain.errors import DeployError, ForgeError, RunConflict
from .domain.gate import GateCounters, evaluate_gate
from .domain.notice import ReleaseNotice
from .domain.runs import Phase, ReleaseRun, RunStatus
from .domain.watch import max_gap_for, sample_coverage, watch_progress

__all__ = ["Rollout"]

log = logging.getLogger("medic.releaser.rollout")

STAGING, PRODUCTION = DeploymentStage.STAGING, DeploymentStage.PRODUCTION
#: Attempts at measuring a baseline before the run gives up without merging anything.
BASELINE_ATTEMPTS = 3
#: Unobserved stretches kept on a watch (for the audit trail); older ones are dropped.
MAX_GAPS_KEPT = 20


def _slots(run: ReleaseRun) -> tuple[DeploymentStage, ...]:
    """The stage slots a run needs now.

    Every run holds staging's until it finishes: production merges the staging branch, so another
    fix on staging meanwhile would ride along. A production rollback (a reopen, a human's) needs only
    production's: it must not wait behind another fix's staging watch, and reverting our merge on the
    staging branch does not touch what that fix has deployed there.
    """
    if run.stage is STAGING:
        return (STAGING,)
    return (PRODUCTION,) if run.phase is Phase.ROLLBACK else (STAGING, PRODUCTION)


class _Continue(Exception):
    """Internal: the step saved the run and the next step can run at once."""


@dataclass(frozen=True, slots=True)
class _Finish:
    outcome: DeploymentOutcome
    reason: str
    checks: tuple[CheckVerdict, ...] = ()


class Rollout:
    """Everything one release run needs, and the steps that move it."""

    def __init__(
        self,
        *,
        runtime: ServiceRuntime,
        runs: RunStore,
        target: ReleaserTarget,
        forge: Forge,
        deployer: Deployer,
        notifiers: list[Notifier],
        lease_ttl_s: float,
        dashboard_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.rt = runtime
        self.runs = runs
        self.target = target
        self.forge = forge
        self.deployer = deployer
        self.notifiers = notifiers
        self.lease_ttl_s = lease_ttl_s
        self.dashboard_url = dashboard_url
        self.clock = clock or (lambda: datetime.now(UTC))
        self._driving: set[str] = set()
        release = target.release
        self.limits = Thresholds(
            threshold=release.threshold,
            error_rate_increase=release.error_rate_increase,
            error_rate_floor=release.error_rate_floor,
            latency_factor=release.latency_factor,
            latency_floor_ms=release.latency_floor_ms,
        )

    @property
    def holder(self) -> str:
        """This instance's name on leases."""
        return self.rt.settings.instance_id

    # ---- the worker ----------------------------------------------------------------------------

    async def drive(self, item: WorkItem, ctx: WorkContext) -> None:
        """Advance the run named by ``item`` as far as it can go now."""
        run_id = str(item.payload["run_id"])
        if run_id in self._driving:
            # Another item of the same run is being driven here (a command queued a fresh one): one at a time.
            raise RetryLater(0.5, f"run {run_id} is being driven")
        self._driving.add(run_id)
        try:
            await self._drive(run_id, ctx)
        finally:
            self._driving.discard(run_id)

    async def _drive(self, run_id: str, ctx: WorkContext) -> None:
        run = await self.runs.get(run_id=run_id)
        if run is None:
            return
        if run.status.finished:
            await self._release_slots(run)  # a crash between the last save and the release left them taken
            return
        if not await self.runs.acquire_lease(target=run.target, holder=self.holder, ttl_s=self.lease_ttl_s):
            holder = await self.runs.lease_holder(target=run.target)
            raise RetryLater(min(self.lease_ttl_s / 2, 5.0), f"target {run.target} is leased by {holder}")
        for _ in range(100):  # a run never needs more steps in one go; a bound keeps a bug from spinning
            if not await self.runs.acquire_lease(target=run.target, holder=self.holder, ttl_s=self.lease_ttl_s):
                raise RetryLater(min(self.lease_ttl_s / 2, 5.0), f"lost the lease of {run.target}")
            await self._take_slots(run)
            try:
                run = await self._step(run, ctx)
            except RetryLater:
                if run.phase is Phase.GATE and run.stage is STAGING:
                    # Waiting for a human or a deploy window with nothing of ours deployed: let other fixes go.
                    await self.runs.release_slot(target=run.target, stage=STAGING.value, run_id=run.run_id)
                raise
            except _Continue:
                latest = await self.runs.get(run_id=run.run_id)
                if latest is None or latest.status.finished:
                    await self._release_slots(run)
                    return
                run = latest
                continue
            except RunConflict:
                ctx.pending.clear()  # the step lost the race: its events were never committed
                raise RetryLater(0.2, "run changed concurrently; reloading") from None
            if run.status.finished:
                await self._release_slots(run)
                await self._release_lease_if_idle(run.target)
            return

    async def _take_slots(self, run: ReleaseRun) -> None:
        """Take (or renew) the run's stage slots before its next step; RetryLater while another run holds one."""
        for stage in _slots(run):
            taken = await self.runs.acquire_slot(
                target=run.target, stage=stage.value, run_id=run.run_id, instance=self.holder, ttl_s=self.lease_ttl_s
            )
            if not taken:
                holder = await self.runs.slot_holder(target=run.target, stage=stage.value)
                raise RetryLater(
                    self.target.release.blocked_retry_s, f"waiting for release {holder} on {run.target} {stage.value}"
                )

    async def _release_slots(self, run: ReleaseRun) -> None:
        for stage in (PRODUCTION, STAGING):
            await self.runs.release_slot(target=run.target, stage=stage.value, run_id=run.run_id)

    async def _release_lease_if_idle(self, target: str) -> None:
        if not [r for r in await self.runs.active(target=target) if r.status is RunStatus.ACTIVE]:
            await self.runs.release_lease(target=target, holder=self.holder)

    async def renew_leases(self) -> None:
        """Keep the leases of targets with active runs while waiting between steps."""
        active = await self.runs.active(target=self.target.target.name)
        if active:
            holder = await self.runs.lease_holder(target=self.target.target.name)
            if holder == self.holder:
                await self.runs.acquire_lease(target=self.target.target.name, holder=self.holder, ttl_s=self.lease_ttl_s)
            # A run waiting between steps keeps its stage slots; a crashed instance's lapse.
            await self.runs.renew_slots(instance=self.holder, run_ids=[r.run_id for r in active], ttl_s=self.lease_ttl_s)

    # ---- persistence ---------------------------------------------------------------------------

    async def _commit(self, run: ReleaseRun, ctx: WorkContext, *, ledger: str | None = None) -> ReleaseRun:
        """Save ``run`` by compare-and-set with the events queued on ``ctx``, in one transaction."""
        async with self.rt.store.transaction() as conn:
            saved = await self.runs.save(conn, run=run)
            if ledger is not None:
                await self.runs.add_ledger(conn, run=run, stage=run.stage.value, kind=ledger)
            await ctx.flush(conn)
        ctx.queue.notify_relay()
        return saved

    def _result(
        self,
        run: ReleaseRun,
        outcome: DeploymentOutcome,
        reason: str,
        *,
        checks: tuple[CheckVerdict, ...] = (),
        now: float | None = None,
    ) -> DeploymentResult:
        state = run.state()
        deployment = state.deployment
        return run.fix.follow_up(
            DeploymentResult,
            producer=self.rt.producer,
            issue=run.issue,
            run_id=run.run_id,
            stage=run.stage,
            outcome=outcome,
            commit_sha=(deployment.sha if deployment and deployment.sha else None) or state.merge_sha or run.fix.commit_sha,
            deployment_id=deployment.id if deployment else None,
            deployment_url=deployment.url if deployment else None,
            metrics_before=state.baseline.metrics() if state.baseline else {},
            metrics_after=state.watch.metrics_after(now or time.time()) if state.watch.samples else {},
            checks=checks,
            reason=reason[:2000],
            approval_id=state.approval_id,
        )

    def _record(
        self, ctx: WorkContext, run: ReleaseRun, action: str, status: ActionStatus, summary: str, **details: object
    ) -> None:
        ctx.record(
            f"releaser.{action}",
            status,
            summary,
            issue_id=run.issue_id,
            caused_by=run.fix,
            details={"run_id": run.run_id, "stage": run.stage.value, **{k: v for k, v in details.items() if v is not None}},
        )

    # ---- steps ---------------------------------------------------------------------------------

    async def _step(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        """Run one step; raise _Continue to go on at once, RetryLater to wait, return when done."""
        if run.rollback_requested_by and run.phase not in (Phase.ROLLBACK, Phase.DONE, Phase.WATCH):
            return await self._manual_rollback(run, ctx)
        if run.phase is Phase.GATE:
            return await self._gate(run, ctx)
        if run.phase is Phase.BASELINE:
            return await self._baseline(run, ctx)
        if run.phase is Phase.MERGE:
            return await self._merge(run, ctx)
        if run.phase is Phase.DEPLOY:
            return await self._deploy(run, ctx)
        if run.phase is Phase.SMOKE:
            return await self._smoke(run, ctx)
        if run.phase is Phase.WATCH:
            return await self._watch(run, ctx)
        if run.phase is Phase.ROLLBACK:
            return await self._rollback(run, ctx)
        return run

    async def _manual_rollback(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        """A human asked for a rollback before or between watches: undo what is deployed, or cancel."""
        who = run.rollback_requested_by
        if run.stage is PRODUCTION and run.production.deploy_key is None:
            run = run.model_copy(update={"stage": STAGING, "status": RunStatus.ACTIVE})  # staging is what runs the fix
        if run.state().deploy_key is None:
            reason = f"cancelled by {who} before anything was deployed"
            return await self._finish(run, ctx, _Finish(DeploymentOutcome.BLOCKED, reason), RunStatus.REJECTED)
        run = run.model_copy(update={"status": RunStatus.ACTIVE})
        return await self._begin_rollback(run, ctx, f"manual rollback by {who}", DeploymentOutcome.ROLLED_BACK, ())

    async def _counters(self, run: ReleaseRun, config: MedicConfig | None) -> GateCounters:
        zone = ZoneInfo(config.business_hours.timezone if config else "UTC")
        local_now = self.clock().astimezone(zone)
        midnight = datetime.combine(local_now.date(), datetime.min.time(), tzinfo=zone)
        return GateCounters(
            deploys_today=await self.runs.deploys_since(target=run.target, since=midnight.timestamp()),
            rollbacks_for_issue=await self.runs.rollbacks_for(issue_id=run.issue_id),
        )

    async def _gate(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        state = run.state()
        config = self.rt.config()
        now = self.clock()
        decision = evaluate_gate(
            config=config,
            issue=run.issue,
            stage=run.stage,
            now=now,
            paused=self.rt.paused,
            counters=await self._counters(run, config),
            approved=state.approved_by is not None,
            tests=run.fix.tests,
        )
        key = f"{run.stage.value}:{decision.verdict.value}:{decision.reason}"
        release = self.target.release
        if decision.proceed:
            self._record(
                ctx,
                run,
                "gate",
                ActionStatus.SUCCEEDED,
                f"{run.stage.value}: proceed — {decision.reason}",
                verdict=decision.verdict.value,
                reason=decision.reason,
            )
            run = run.model_copy(update={"phase": Phase.BASELINE, "status": RunStatus.ACTIVE, "last_verdict": key})
            await self._commit(run, ctx)
            raise _Continue
        if decision.verdict is Verdict.NEEDS_APPROVAL:
            if not state.approval_requested:
                return await self._request_approval(run, ctx, decision.reason, config, key)
            ttl = timedelta(minutes=config.approval_ttl_minutes if config else 24 * 60)
            if state.approval_requested_at and time.time() > state.approval_requested_at + ttl.total_seconds():
                return await self._finish(run, ctx, _Finish(DeploymentOutcome.BLOCKED, "approval expired"), RunStatus.REJECTED)
            raise RetryLater(release.approval_poll_s, f"waiting for approval {state.approval_id}")
        # blocked
        if run.last_verdict != key:
            self._record(
                ctx,
                run,
                "gate",
                ActionStatus.REFUSED,
                f"{run.stage.value}: blocked — {decision.reason}",
                verdict=decision.verdict.value,
                reason=decision.reason,
                retry_at=decision.retry_at.isoformat() if decision.retry_at else None,
            )
            ctx.emit(self._result(run, DeploymentOutcome.BLOCKED, decision.reason))
            run = await self._commit(
                run.model_copy(update={"status": RunStatus.BLOCKED, "reason": decision.reason, "last_verdict": key}), ctx
            )
            await self._notify(run, DeploymentOutcome.BLOCKED, decision.reason)
        # Ask again at the next opening, or sooner: a config change (caps, hours, level) may unblock it.
        delay = release.blocked_retry_s
        if decision.retry_at is not None:
            delay = min(max((decision.retry_at - now).total_seconds(), 0.1), release.blocked_retry_s)
        raise RetryLater(delay, f"blocked: {decision.reason}")

    async def _request_approval(
        self, run: ReleaseRun, ctx: WorkContext, reason: str, config: MedicConfig | None, key: str
    ) -> ReleaseRun:
        approval_id = f"apr_{run.run_id}_{run.stage.value}"
        ttl = config.approval_ttl_minutes if config else 24 * 60
        fix = run.fix
        ctx.emit(
            fix.follow_up(
                ApprovalRequested,
                producer=self.rt.producer,
                approval_id=approval_id,
                kind=ApprovalKind.DEPLOY,
                requested_by=f"releaser/{self.holder}",
                reason=reason,
                summary=f"deploy {fix.commit_sha[:12]} ({fix.branch}) to {run.stage.value}: {fix.issue.title}"[:5000],
                diff=fix.diff,
                diff_hash=fix.diff_hash,
                expires_at=self.clock() + timedelta(minutes=ttl),
                issue=fix.issue,
            )
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
        self._record(
            ctx,
            run,
            "gate",
            ActionStatus.SKIPPED,
            f"{run.stage.value}: needs approval — {reason}",
            verdict=Verdict.NEEDS_APPROVAL.value,
            reason=reason,
            approval_id=approval_id,
        )
        ctx.emit(self._result(run, DeploymentOutcome.AWAITING_APPROVAL, reason))
        run = await self._commit(run, ctx)
        await self._notify(run, DeploymentOutcome.AWAITING_APPROVAL, reason)
        raise RetryLater(self.target.release.approval_poll_s, f"waiting for approval {approval_id}")

    async def _baseline(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        state = run.state()
        checks = self.target.release.checks(run.stage)
        probe = self.probe(run)
        window = self.target.release.baseline_s
        if state.baseline_started_at is None:
            first = await probe.scrape()
            state = state.model_copy(update={"baseline_started_at": time.time(), "watch": WatchState(previous=first)})
            run = await self._commit(run.model_copy(update={run.stage.value: state}), ctx)
            if checks.metrics_url:
                raise RetryLater(window, "measuring the baseline")
            raise _Continue
        remaining = state.baseline_started_at + window - time.time()
        if checks.metrics_url and remaining > 0:
            raise RetryLater(remaining, "measuring the baseline")
        baseline = await probe.baseline(first=state.watch.previous)
        gaps = baseline_gaps(baseline, active_checks(checks))
        missing = f" (missing: {', '.join(baseline.missing)})" if baseline.missing else ""
        self._record(
            ctx,
            run,
            "baseline",
            ActionStatus.SUCCEEDED if not baseline.missing else ActionStatus.FAILED,
            f"{run.stage.value} baseline {baseline.metrics()}{missing}",
            metrics=baseline.metrics(),
            missing=list(baseline.missing),
        )
        if gaps:
            # Without a baseline the watch cannot tell a regression from normal: never deploy on it.
            attempts = state.baseline_attempts + 1
            why = "; ".join(v.detail for v in gaps)
            if attempts >= BASELINE_ATTEMPTS:
                reason = f"no {run.stage.value} baseline after {attempts} attempt(s): {why}; missing data counts as failing"
                if run.stage is PRODUCTION:
                    # Staging already runs the fix: undo it there, or the next release's promotion would carry it.
                    staging = run.model_copy(update={"stage": STAGING})
                    return await self._begin_rollback(staging, ctx, reason, DeploymentOutcome.FAILED, tuple(gaps))
                return await self._finish(
                    run, ctx, _Finish(DeploymentOutcome.FAILED, f"{reason}; nothing was merged", tuple(gaps)), RunStatus.FAILED
                )
            state = state.model_copy(update={"baseline_started_at": None, "baseline_attempts": attempts})
            await self._commit(run.model_copy(update={run.stage.value: state}), ctx)
            raise RetryLater(window, f"baseline incomplete ({why}); measuring again")
        # What serves now is what a rollback goes back to: recorded before the merge, while the run holds the slot.
        previous = await self.deployer.current(stage=run.stage)
        state = state.model_copy(update={"baseline": baseline, "watch": WatchState(), "pre_merge_release": previous})
        await self._commit(run.model_copy(update={run.stage.value: state, "phase": Phase.MERGE}), ctx)
        raise _Continue

    def _branch(self, stage: DeploymentStage) -> str:
        target = self.target.target
        return target.staging_branch if stage is STAGING else target.default_branch

    async def _merge(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        ctx.require_running("releaser.merge", issue_id=run.issue_id)
        state = run.state()
        fix, target = run.fix, self.target.target
        branch = self._branch(run.stage)
        try:
            before = await self.forge.branch_head(branch=branch)
            if run.stage is STAGING:
                message = f"Medic: merge fix for {run.issue_id} ({fix.commit_sha[:12]})"
                number = fix.pr_number
                if number is None:
                    pr = await self.forge.find_pull_request(head=fix.branch, base=branch)
                    number = pr.number if pr else None
                if number is not None:
                    sha = await self.forge.merge_pull_request(number=number, message=message)
                else:
                    sha = await self.forge.merge_branch(source=fix.branch, target=branch, message=message)
            else:
                message = f"Medic: promote {target.staging_branch} to {branch} for {run.issue_id}"
                sha = await self.forge.merge_branch(source=target.staging_branch, target=branch, message=message)
        except ForgeError as exc:
            return await self._finish(
                run, ctx, _Finish(DeploymentOutcome.FAILED, f"merge into {branch} failed: {exc}"), RunStatus.FAILED
            )
        self._record(
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
        await self._commit(run.model_copy(update={run.stage.value: state, "phase": Phase.DEPLOY}), ctx)
        raise _Continue

    async def _deploy(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        ctx.require_running("releaser.deploy", issue_id=run.issue_id)
        state = run.state()
        release = self.target.release
        if state.deploy_key is None:
            # The intent is durable before the deployer hears of it: a crash after this is reconciled.
            previous = state.pre_merge_release or await self.deployer.current(stage=run.stage)
            key = f"{run.run_id}:{run.stage.value}"
            state = state.model_copy(update={"previous": previous, "deploy_key": key, "deploy_started_at": time.time()})
            self._record(
                ctx,
                run,
                "deploy",
                ActionStatus.STARTED,
                f"deploying {(state.merge_sha or '')[:12]} to {run.stage.value} with {self.deployer.name}",
                deploy_key=key,
                previous=previous.id if previous else None,
            )
            run = await self._commit(
                run.model_copy(update={run.stage.value: state}), ctx, ledger="deploy" if run.stage is PRODUCTION else None
            )
        if state.deployment is None:
            key = state.deploy_key or ""
            try:
                found = await self.deployer.find(stage=run.stage, key=key)
                if found is not None:
                    self._record(
                        ctx,
                        run,
                        "reconcile",
                        ActionStatus.SUCCEEDED,
                        f"deployment {found.id} started before a restart was found and adopted",
                        deployment=found.id,
                    )
                    started = found
                else:
                    started = await self.deployer.start(
                        stage=run.stage, ref=self._branch(run.stage), sha=state.merge_sha or run.fix.commit_sha, key=key
                    )
            except (DeployError, ForgeError) as exc:
                return await self._begin_rollback(run, ctx, f"deploy failed: {exc}", DeploymentOutcome.FAILED, ())
            state = state.model_copy(update={"deployment": started})
            run = await self._commit(run.model_copy(update={run.stage.value: state}), ctx)
        deployment = state.deployment
        if deployment is None:  # unreachable: set just above; keeps the type checker honest
            raise RetryLater(1.0, "deployment not recorded yet")
        try:
            status = await self.deployer.status(stage=run.stage, deployment=deployment)
        except DeployError as exc:
            status = DeploymentStatus.BUILDING
            log.warning("deployment status unavailable: %s", exc)
        if status is DeploymentStatus.BUILDING:
            if time.time() - (state.deploy_started_at or time.time()) > release.deploy_timeout_s:
                return await self._begin_rollback(
                    run,
                    ctx,
                    f"deployment {deployment.id} not ready after {release.deploy_timeout_s:.0f}s",
                    DeploymentOutcome.FAILED,
                    (),
                )
            raise RetryLater(min(self.target.deployer.poll_s, 5.0), f"deployment {deployment.id} building")
        if status is DeploymentStatus.ERROR:
            return await self._begin_rollback(run, ctx, f"deployment {deployment.id} failed", DeploymentOutcome.FAILED, ())
        try:
            await self.deployer.activate(stage=run.stage, deployment=deployment)
        except DeployError as exc:
            return await self._begin_rollback(run, ctx, f"activating {deployment.id} failed: {exc}", DeploymentOutcome.FAILED, ())
        self._record(
            ctx,
            run,
            "deploy",
            ActionStatus.SUCCEEDED,
            f"{run.stage.value} serves {deployment.id}",
            deployment=deployment.id,
            url=deployment.url,
        )
        # Errors the previous deployment logged until the switch are not the fix's: the watch reads from here.
        state = state.model_copy(update={"deploy_confirmed": True, "serving_log_offset": self.probe(run).log_size()})
        await self._commit(run.model_copy(update={run.stage.value: state, "phase": Phase.SMOKE}), ctx)
        raise _Continue

    async def _smoke(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        state = run.state()
        checks = self.target.release.checks(run.stage)
        probe = self.probe(run)
        first = await probe.scrape()  # the watch's counters start here: smoke traffic is in the first sample
        results = await run_smoke(checks.smoke)
        failed = [why for _, ok, why in results if not ok]
        verdict = CheckVerdict(
            name=CheckName.SMOKE,
            passed=not failed,
            value=float(len(failed)),
            threshold=0.0,
            detail="; ".join(failed) if failed else f"{len(results)} smoke check(s) passed",
        )
        if failed:
            return await self._begin_rollback(
                run, ctx, f"smoke tests failed: {verdict.detail}", DeploymentOutcome.ROLLED_BACK, (verdict,)
            )
        self._record(ctx, run, "smoke", ActionStatus.SUCCEEDED, verdict.detail)
        baseline_offset = state.baseline.log_offset if state.baseline else None
        offset = state.serving_log_offset if state.serving_log_offset is not None else baseline_offset
        watch = WatchState(previous=first, log_offset=offset, started_at=time.time())
        until = time.time() + self.target.release.watch_s(run.stage)
        state = state.model_copy(update={"watch": watch, "watch_until": until, "verdicts": [verdict]})
        self._record(
            ctx,
            run,
            "watch",
            ActionStatus.STARTED,
            f"watching {run.stage.value} for {self.target.release.watch_s(run.stage):.0f}s",
            watch_until=until,
        )
        await self._commit(run.model_copy(update={run.stage.value: state, "phase": Phase.WATCH}), ctx)
        raise _Continue

    async def _watch(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        state = run.state()
        release = self.target.release
        if run.rollback_requested_by:
            return await self._begin_rollback(
                run, ctx, f"manual rollback by {run.rollback_requested_by}", DeploymentOutcome.ROLLED_BACK, ()
            )
        if run.recurred:
            verdict = CheckVerdict(name=CheckName.RECURRENCE, passed=False, detail="the watcher saw the fixed issue again")
            outcome = DeploymentOutcome.REOPENED if run.stage is PRODUCTION else DeploymentOutcome.ROLLED_BACK
            return await self._begin_rollback(run, ctx, "the fixed error recurred", outcome, (verdict,))
        checks = release.checks(run.stage)
        active = active_checks(checks)
        baseline = state.baseline
        assert baseline is not None
        window = release.watch_s(run.stage)
        if watch_progress(observed_s=state.watch.observed_s, window_s=window).complete:
            ctx.require_running("releaser.promote", issue_id=run.issue_id)
            verdicts = tuple(state.verdicts) + tuple(final_verdicts(state.watch, active))
            bad = [v for v in verdicts if not v.passed]
            if bad:
                reason = "; ".join(f"{v.name}: {v.detail}" for v in bad)
                return await self._begin_rollback(run, ctx, reason, DeploymentOutcome.ROLLED_BACK, verdicts)
            return await self._promote(run, ctx, verdicts)
        watch = state.watch.model_copy(deep=True)
        observation = await self.probe(run).observe(watch)
        now = time.time()
        sample = sample_coverage(
            last_at=watch.last_sample_at or watch.started_at, now=now, max_gap_s=max_gap_for(release.sample_interval_s)
        )
        watch.observed_s += sample.covered_s
        watch.last_sample_at = now
        failed = record_sample(watch, observation, baseline, self.limits, active, after_gap=sample.after_gap)
        coverage = watch_progress(observed_s=watch.observed_s, window_s=window)
        if sample.after_gap:
            gap_end = now - sample.covered_s
            watch.unobserved = [*watch.unobserved, (gap_end - sample.gap_s, gap_end)][-MAX_GAPS_KEPT:]
            self._record(
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
        if failed:
            verdicts = tuple(state.verdicts) + tuple(final_verdicts(watch, active))
            reason = "; ".join(f"{v.name}: {v.detail}" for v in failed)
            recurred = any(v.name == CheckName.RECURRENCE for v in failed)
            outcome = DeploymentOutcome.REOPENED if recurred and run.stage is PRODUCTION else DeploymentOutcome.ROLLED_BACK
            return await self._begin_rollback(run, ctx, reason, outcome, verdicts)
        await self._commit(run, ctx)
        raise RetryLater(max(min(release.sample_interval_s, coverage.remaining_s), 0.05), "watching")

    def probe(self, run: ReleaseRun) -> StageProbe:
        """The probe of the run's current stage (errors tagged with the previous release are not the new one's)."""
        return StageProbe(self.target.release.checks(run.stage), issue=run.issue, old_release=run.state().old_release())

    async def _promote(self, run: ReleaseRun, ctx: WorkContext, verdicts: tuple[CheckVerdict, ...]) -> ReleaseRun:
        watch = run.state().watch
        unobserved = sum(end - start for start, end in watch.unobserved)
        reason = f"all checks held for {watch.observed_s:.0f}s observed" + (
            f" (besides {unobserved:.0f}s unobserved, not counted)" if unobserved else ""
        )
        state = run.state().model_copy(update={"verdicts": list(verdicts), "outcome": DeploymentOutcome.PROMOTED.value})
        run = run.model_copy(update={run.stage.value: state})
        self._record(
            ctx,
            run,
            "watch",
            ActionStatus.SUCCEEDED,
            f"{run.stage.value} healthy: {reason}",
            verdicts=[v.model_dump(mode="json") for v in verdicts],
        )
        ctx.emit(self._result(run, DeploymentOutcome.PROMOTED, reason, checks=verdicts))
        if run.stage is STAGING:
            run = await self._commit(run.model_copy(update={"stage": PRODUCTION, "phase": Phase.GATE, "last_verdict": None}), ctx)
            await self._notify(run, DeploymentOutcome.PROMOTED, reason, stage=STAGING, checks=verdicts)
            raise _Continue
        run = await self._commit(
            run.model_copy(update={"phase": Phase.DONE, "status": RunStatus.PROMOTED, "reason": reason}), ctx
        )
        await self._notify(run, DeploymentOutcome.PROMOTED, reason, checks=verdicts)
        return run

    async def _begin_rollback(
        self,
        run: ReleaseRun,
        ctx: WorkContext,
        reason: str,
        outcome: DeploymentOutcome,
        verdicts: tuple[CheckVerdict, ...],
    ) -> ReleaseRun:
        state = run.state().model_copy(update={"verdicts": list(verdicts), "outcome": outcome.value})
        self._record(
            ctx,
            run,
            "rollback",
            ActionStatus.STARTED,
            f"rolling back {run.stage.value}: {reason}",
            verdicts=[v.model_dump(mode="json") for v in verdicts],
        )
        run = run.model_copy(update={run.stage.value: state, "phase": Phase.ROLLBACK, "rollback_reason": reason})
        await self._commit(run, ctx)
        raise _Continue

    async def _rollback(self, run: ReleaseRun, ctx: WorkContext) -> ReleaseRun:
        ctx.require_running("releaser.rollback", issue_id=run.issue_id)
        state = run.state()
        reason = run.rollback_reason or "rollback"
        outcome = DeploymentOutcome(state.outcome or DeploymentOutcome.ROLLED_BACK.value)
        problems: list[str] = []
        if not state.redeployed:
            if state.deploy_key is not None:
                try:
                    now_serving = await self.deployer.rollback(
                        stage=run.stage,
                        to=state.previous,
                        failed=state.deployment,
                        key=f"{run.run_id}:{run.stage.value}:rollback",
                    )
                    summary = f"{run.stage.value} serves {now_serving.id if now_serving else 'nothing'} again"
                    self._record(
                        ctx, run, "redeploy", ActionStatus.SUCCEEDED, summary, deployment=now_serving.id if now_serving else None
                    )
                except (DeployError, ForgeError) as exc:
                    problems.append(f"redeploy failed: {exc}")
                    self._record(ctx, run, "redeploy", ActionStatus.FAILED, f"redeploying the previous deployment failed: {exc}")
            state = state.model_copy(update={"redeployed": True})
            run = await self._commit(run.model_copy(update={run.stage.value: state}), ctx, ledger="rollback")
        if state.reverted_sha is None:
            state = state.model_copy(update={"reverted_sha": await self._revert(run, ctx, problems)})
            run = await self._commit(run.model_copy(update={run.stage.value: state}), ctx)
        if problems:
            reason = f"{reason}; {'; '.join(problems)}"
        status = (
            RunStatus.REOPENED
            if outcome is DeploymentOutcome.REOPENED
            else (RunStatus.FAILED if outcome is DeploymentOutcome.FAILED else RunStatus.ROLLED_BACK)
        )
        return await self._finish(run, ctx, _Finish(outcome, reason, tuple(state.verdicts)), status)

    async def _revert(self, run: ReleaseRun, ctx: WorkContext, problems: list[str]) -> str:
        """Revert the stage's merge on its branch (production also reverts staging's); '' when nothing to revert."""
        reverted = ""
        stages = [run.stage] if run.stage is STAGING else [PRODUCTION, STAGING]
        for stage in stages:
            st = run.state(stage)
            if not st.merge_sha or st.merge_sha == st.pre_merge_sha:
                continue  # the merge added nothing: there is nothing of ours to revert
            branch = self._branch(stage)
            try:
                sha = await self.forge.revert_commit(
                    branch=branch,
                    sha=st.merge_sha,
                    message=f"Medic: revert fix for {run.issue_id} ({run.rollback_reason or ''})"[:200],
                )
            except ForgeError as exc:
                problems.append(f"revert on {branch} failed: {exc}")
                self._record(ctx, run, "revert", ActionStatus.FAILED, f"reverting {st.merge_sha[:12]} on {branch} failed: {exc}")
                continue
            self._record(
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

    async def _finish(self, run: ReleaseRun, ctx: WorkContext, finish: _Finish, status: RunStatus) -> ReleaseRun:
        self._record(
            ctx,
            run,
            "result",
            ActionStatus.SUCCEEDED if finish.outcome is DeploymentOutcome.PROMOTED else ActionStatus.FAILED,
            f"{run.stage.value}: {finish.outcome.value} — {finish.reason}",
            outcome=finish.outcome.value,
        )
        ctx.emit(self._result(run, finish.outcome, finish.reason, checks=finish.checks))
        run = await self._commit(run.model_copy(update={"phase": Phase.DONE, "status": status, "reason": finish.reason}), ctx)
        await self._notify(run, finish.outcome, finish.reason, checks=finish.checks)
        return run

    # ---- notifications -------------------------------------------------------------------------

    async def _notify(
        self,
        run: ReleaseRun,
        outcome: DeploymentOutcome,
        reason: str,
        *,
        stage: DeploymentStage | None = None,
        checks: tuple[CheckVerdict, ...] = (),
    ) -> None:
        """Tell the configured channels (after the decision is durable); failures are audited, never fatal."""
        if self.rt.paused:
            async with self.rt.transaction() as tx:
                tx.record(
                    "releaser.notify",
                    ActionStatus.REFUSED,
                    f"notification refused: {self.rt.control.pause_reason}",
                    issue_id=run.issue_id,
                )
            return
        config = self.rt.config()
        default = config.notify if config else "all"
        stage = stage or run.stage
        st = run.state(stage)
        notice = ReleaseNotice(
            issue_id=run.issue_id,
            issue=run.issue,
            stage=stage,
            outcome=outcome,
            reason=reason,
            pr_url=run.fix.pr_url,
            commit_sha=st.merge_sha or run.fix.commit_sha,
            deployment_id=st.deployment.id if st.deployment else None,
            deployment_url=st.deployment.url if st.deployment else None,
            root_cause=run.fix.root_cause,
            checks=checks,
            dashboard_url=self.dashboard_url,
            approval_id=st.approval_id,
        )
        outcomes: list[tuple[str, Exception | None]] = []
        for channel in self.notifiers:
            if not wants(channel, notice, default):
                continue
            try:
                await channel.send(notice)
            except Exception as exc:  # any channel failure is audited; the release goes on
                outcomes.append((channel.name, exc))
            else:
                outcomes.append((channel.name, None))
        if not outcomes:
            return
        # Recorded after sending, in one short transaction: no network call holds the store.
        async with self.rt.transaction() as tx:
            for name, error in outcomes:
                if error is not None:
                    tx.record("releaser.notify", ActionStatus.FAILED, f"{name} notification failed: {error}"[:2000],
                              issue_id=run.issue_id, details={"channel": name})  # fmt: skip
                else:
                    tx.record("releaser.notify", ActionStatus.SUCCEEDED, f"{name}: {notice.headline}"[:2000],
                              issue_id=run.issue_id, details={"channel": name, "outcome": outcome.value})  # fmt: skip
