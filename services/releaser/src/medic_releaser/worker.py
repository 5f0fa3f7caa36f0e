"""The ``release`` worker: drives one release run a step at a time from the work queue; the only emitter.

Each call of :meth:`Rollout.drive` loads the run, takes the target's lease and the run's stage slots
(one release at a time per target and stage), and runs the step ``domain.transitions.next_step``
names: gate → baseline → merge → deploy → smoke → watch for staging, then for production, or into
rollback (the steps live in ``job/``, the rules in ``domain/``). Every transition is saved by
compare-and-set together with the events it causes (one store transaction, through the outbox), so
a process killed at any point resumes from the last saved step: a watch resumes for the part of its
window nobody observed (domain.watch), an ambiguous deploy is reconciled against the deployer first.
Waiting (for the next sample, an approval, a deploy window) is :class:`RetryLater`, never a held
Kafka message. The steps say what happened through this worker's ``record``/``emit``/``result``/
``notify``: nothing else in the package writes the audit trail, events or notifications of a run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionStatus,
    CheckVerdict,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    Envelope,
    FixCommitted,
)
from medic_runtime import Emitter, RetryLater, ServiceRuntime, WorkContext, WorkItem

from .adapters.deployers import Deployer
from .adapters.forge import Forge
from .adapters.notifiers import Notifier, wants
from .adapters.sources import StageProbe
from .adapters.store import RunStore
from .config import ReleaserTarget
from .domain.analysis import Thresholds
from .domain.commands import RELEASE_WORK, Refusal, RunChange, new_run
from .domain.errors import RunConflict
from .domain.notice import notice_for
from .domain.runs import Phase, ReleaseRun
from .domain.transitions import Finish, Step, next_step
from .job import Continue, baseline, deploy, gate, leases, merge, rollback, smoke, watch

__all__ = ["RELEASE_WORK", "Rollout"]

log = logging.getLogger("medic.releaser.rollout")

STAGING, PRODUCTION = DeploymentStage.STAGING, DeploymentStage.PRODUCTION

StepFn = Callable[["Rollout", ReleaseRun, WorkContext], Awaitable[ReleaseRun]]
#: The job step of each step name (``Step.NONE`` has none: the run is done).
STEPS: dict[Step, StepFn] = {
    Step.MANUAL_ROLLBACK: gate.manual_rollback,
    Step.GATE: gate.gate,
    Step.BASELINE: baseline.baseline,
    Step.MERGE: merge.merge,
    Step.DEPLOY: deploy.deploy,
    Step.SMOKE: smoke.smoke,
    Step.WATCH: watch.watch,
    Step.ROLLBACK: rollback.rollback,
}


class Rollout:
    """Everything one release run needs, the loop that moves it, and the one place that speaks for it."""

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

    def probe(self, run: ReleaseRun) -> StageProbe:
        """The probe of the run's current stage (errors tagged with the previous release are not the new one's)."""
        return StageProbe(self.target.release.checks(run.stage), issue=run.issue, old_release=run.state().old_release())

    def branch(self, stage: DeploymentStage) -> str:
        """The branch a stage deploys from."""
        target = self.target.target
        return target.staging_branch if stage is STAGING else target.default_branch

    # ---- the loop ------------------------------------------------------------------------------

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
            await leases.release_slots(self, run)  # a crash between the last save and the release left them taken
            return
        if not await self.runs.acquire_lease(target=run.target, holder=self.holder, ttl_s=self.lease_ttl_s):
            holder = await self.runs.lease_holder(target=run.target)
            raise RetryLater(min(self.lease_ttl_s / 2, 5.0), f"target {run.target} is leased by {holder}")
        for _ in range(100):  # a run never needs more steps in one go; a bound keeps a bug from spinning
            if not await self.runs.acquire_lease(target=run.target, holder=self.holder, ttl_s=self.lease_ttl_s):
                raise RetryLater(min(self.lease_ttl_s / 2, 5.0), f"lost the lease of {run.target}")
            await leases.take_slots(self, run)
            try:
                step = STEPS.get(next_step(run))
                if step is not None:
                    run = await step(self, run, ctx)
            except RetryLater:
                if run.phase is Phase.GATE and run.stage is STAGING:
                    # Waiting for a human or a deploy window with nothing of ours deployed: let other fixes go.
                    await self.runs.release_slot(target=run.target, stage=STAGING.value, run_id=run.run_id)
                raise
            except Continue:
                latest = await self.runs.get(run_id=run.run_id)
                if latest is None or latest.status.finished:
                    await leases.release_slots(self, run)
                    return
                run = latest
                continue
            except RunConflict:
                ctx.pending.clear()  # the step lost the race: its events were never committed
                raise RetryLater(0.2, "run changed concurrently; reloading") from None
            if run.status.finished:
                await leases.release_slots(self, run)
                await leases.release_lease_if_idle(self, run.target)
            return

    async def renew_leases(self) -> None:
        """Keep the leases of targets with active runs while waiting between steps."""
        await leases.renew(self)

    # ---- saving, and what the run says ---------------------------------------------------------

    async def commit(self, run: ReleaseRun, ctx: WorkContext, *, ledger: str | None = None) -> ReleaseRun:
        """Save ``run`` by compare-and-set with the events queued on ``ctx``, in one transaction."""
        async with self.rt.store.transaction() as conn:
            saved = await self.runs.save(conn, run=run)
            if ledger is not None:
                await self.runs.add_ledger(conn, run=run, stage=run.stage.value, kind=ledger)
            await ctx.flush(conn)
        ctx.queue.notify_relay()
        return saved

    def require_running(self, ctx: WorkContext, run: ReleaseRun, action: str) -> None:
        """Refuse the side effect ``action`` while paused (the refusal is audited)."""
        ctx.require_running(action, issue_id=run.issue_id)

    def record(
        self, ctx: WorkContext, run: ReleaseRun, action: str, status: ActionStatus, summary: str, **details: object
    ) -> None:
        """Queue the audit record ``releaser.<action>`` of the run (saved with the next commit)."""
        ctx.record(
            f"releaser.{action}",
            status,
            summary,
            issue_id=run.issue_id,
            caused_by=run.fix,
            details={"run_id": run.run_id, "stage": run.stage.value, **{k: v for k, v in details.items() if v is not None}},
        )

    def emit(self, ctx: WorkContext, event: Envelope) -> None:
        """Queue ``event`` (saved with the next commit, published through the outbox)."""
        ctx.emit(event)

    def result(
        self, ctx: Emitter, run: ReleaseRun, outcome: DeploymentOutcome, reason: str, *, checks: tuple[CheckVerdict, ...] = ()
    ) -> None:
        """Queue the run's DeploymentResult for its current stage."""
        state = run.state()
        deployment = state.deployment
        ctx.emit(
            run.fix.follow_up(
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
                metrics_after=state.watch.metrics_after(time.time()) if state.watch.samples else {},
                checks=checks,
                reason=reason[:2000],
                approval_id=state.approval_id,
            )
        )

    # ---- what commands and watcher reports change (rules in domain/commands.py) ----------------

    async def accept(
        self, fix: FixCommitted, *, conn: AsyncConnection, emitter: Emitter, headers: dict[str, str] | None = None
    ) -> ReleaseRun | None:
        """Create the release run for a committed fix and queue it (priority = severity rank)."""
        seen = await self.runs.issue_view(issue_id=fix.issue_id, conn=conn)
        run = new_run(fix, target=self.target.target.name, seen=seen, now=time.time())
        if run is None:
            summary = f"fix for target {fix.issue.target!r} ignored: this releaser serves {self.target.target.name!r}"
            emitter.record("releaser.skipped", ActionStatus.SKIPPED, summary, issue_id=fix.issue_id, caused_by=fix)
            return None
        created = await self.runs.create(conn, run=run)
        await self.rt.work.enqueue(
            conn,
            kind=RELEASE_WORK,
            dedup_key=f"{RELEASE_WORK}:{run.run_id}",
            payload={"run_id": run.run_id},
            priority=run.issue.severity.rank,
            issue_id=fix.issue_id,
            headers=headers,
            max_attempts=10,
        )
        if created:
            details = {"run_id": run.run_id}
            summary = f"release {run.run_id} queued for {fix.commit_sha[:12]} on {fix.branch}"
            emitter.record(
                "releaser.accepted", ActionStatus.SUCCEEDED, summary, issue_id=fix.issue_id, caused_by=fix, details=details
            )
            if self.rt.paused:
                summary = f"release {run.run_id} waits: {self.rt.control.pause_reason}"
                emitter.record(
                    "releaser.gate", ActionStatus.REFUSED, summary, issue_id=fix.issue_id, caused_by=fix, details=details
                )
        return run

    async def apply(self, change: RunChange, *, within: tuple[AsyncConnection, Emitter] | None = None) -> bool:
        """Save ``change`` by compare-and-set with its record (in ``within``'s transaction when given).

        False when the run changed meanwhile (the caller reloads it and asks the rule again).
        """
        run = change.run

        async def write(conn: AsyncConnection, emitter: Emitter) -> None:
            await self.runs.save(conn, run=run)
            emitter.record(change.action, change.status, change.summary, issue_id=run.issue_id, details={"run_id": run.run_id})
            if change.announce is not None:
                self.result(emitter, run, change.announce, change.reason)
            if change.enqueue:
                await self.rt.work.enqueue(
                    conn,
                    kind=RELEASE_WORK,
                    dedup_key=change.enqueue,
                    payload={"run_id": run.run_id},
                    priority=run.issue.severity.rank,
                    issue_id=run.issue_id,
                    max_attempts=10,
                )

        try:
            if within is not None:
                await write(*within)
            else:
                async with self.rt.transaction() as tx:
                    await write(tx.conn, tx)
        except RunConflict:
            return False
        if change.wake:
            self.rt.work.wake()
        return True

    async def refuse(self, refusal: Refusal) -> None:
        """Audit a refused command (the run is unchanged)."""
        async with self.rt.transaction() as tx:
            tx.record(refusal.action, ActionStatus.REFUSED, refusal.summary, issue_id=refusal.issue_id)

    # ---- the transitions every step may end in -------------------------------------------------

    async def begin_rollback(
        self,
        run: ReleaseRun,
        ctx: WorkContext,
        reason: str,
        outcome: DeploymentOutcome,
        verdicts: tuple[CheckVerdict, ...],
    ) -> ReleaseRun:
        """Move the run into rollback (saved), announcing ``outcome`` when the rollback is done."""
        state = run.state().model_copy(update={"verdicts": list(verdicts), "outcome": outcome.value})
        self.record(
            ctx,
            run,
            "rollback",
            ActionStatus.STARTED,
            f"rolling back {run.stage.value}: {reason}",
            verdicts=[v.model_dump(mode="json") for v in verdicts],
        )
        run = run.model_copy(update={run.stage.value: state, "phase": Phase.ROLLBACK, "rollback_reason": reason})
        await self.commit(run, ctx)
        raise Continue

    async def finish(self, run: ReleaseRun, ctx: WorkContext, finish: Finish) -> ReleaseRun:
        """End the run: record, announce and save its outcome, then tell people."""
        self.record(
            ctx,
            run,
            "result",
            ActionStatus.SUCCEEDED if finish.outcome is DeploymentOutcome.PROMOTED else ActionStatus.FAILED,
            f"{run.stage.value}: {finish.outcome.value} — {finish.reason}",
            outcome=finish.outcome.value,
        )
        self.result(ctx, run, finish.outcome, finish.reason, checks=finish.checks)
        update = {"phase": Phase.DONE, "status": finish.status, "reason": finish.reason}
        run = await self.commit(run.model_copy(update=update), ctx)
        await self.notify(run, finish.outcome, finish.reason, checks=finish.checks)
        return run

    async def notify(
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
        notice = notice_for(run, outcome, reason, stage=stage, checks=checks, dashboard_url=self.dashboard_url)
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
