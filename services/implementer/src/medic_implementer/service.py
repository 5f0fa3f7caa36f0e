"""The implementer's service logic: fix work items, approval requests and decisions.

``handlers.py`` turns DiagnosisReady events and approve/reject commands into calls here;
:class:`Implementer` runs :func:`~medic_implementer.implement.implement_fix` for a work item and
turns its outcome into events: FixCommitted and ActionRecorded (diff, test output) for a commit,
ApprovalRequested (bound to the diff hash) when policy wants a human, an audited refusal or
escalation otherwise. Pending approvals live in the service's store, so an approval that arrives
after a restart still finds its diff.

The learning loop closes here too: every fix is remembered with its strategy; a fix whose tests all
failed, a rejection, a rollback (DeploymentResult) or a rating (the ``feedback`` command) becomes
an outcome of that strategy and, when it is a failure, an analysis in the issue's audit trail; the
next fix ranks its candidates with what that history teaches (:class:`StrategyMemory`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionStatus,
    ApprovalKind,
    ApprovalRequested,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    FixStrategy,
    MedicConfig,
    TargetConfig,
    TestOutcome,
    TestReport,
    auto_fix_refusal,
    utcnow,
)
from medic_runtime import Emitter, RetryLater, ServiceRuntime, WorkContext, WorkItem

from .adapters.forge import FORGE_ERRORS, Forge
from .domain.candidates import diff_hash
from .domain.failure_analysis import FailureAnalysis, analyse_rating, analyse_rejection, analyse_rollback, analyse_tests
from .domain.strategy_stats import IssueShape, Signal, StrategyLearning, shape_of
from .implement import ApprovedFix, FixOptions, FixOutcome, OutcomeKind, implement_fix
from .learning import StrategyMemory
from .store import fix_approvals

__all__ = ["FIX_WORK", "Implementer", "approval_id_for"]

log = logging.getLogger("medic.implementer")

FIX_WORK = "fix"
FAILURE_ANALYSED = "implementer.fix_failure_analysed"


def record_analysis(
    emitter: Emitter, analysis: FailureAnalysis, *, issue_id: str, shape: IssueShape, caused_by: Any, **extra: Any
) -> None:
    """Audit why a fix failed (projected by control-api into the issue's actions)."""
    emitter.record(
        FAILURE_ANALYSED,
        ActionStatus.SUCCEEDED,
        analysis.summary[:1900],
        issue_id=issue_id,
        reasoning=analysis.lesson,
        details={**analysis.details(shape), **extra},
        caused_by=caused_by,
    )


def approval_id_for(diagnosis: DiagnosisReady, attempt: int) -> str:
    """A stable approval id: the same diagnosis (redelivered) asks under the same id."""
    return f"apr-fix-{diagnosis.issue_id}-{attempt}-{diagnosis.event_id[:8]}"[:200]


@dataclass
class Implementer:
    """What the implementer's handlers and workers share: the target, its forge, how fixes are made."""

    rt: ServiceRuntime
    target: TargetConfig
    repo: Path
    forge: Forge | None
    options: FixOptions
    repository: str

    @property
    def memory(self) -> StrategyMemory:
        """The strategy history in this service's store."""
        return StrategyMemory(self.rt.store)

    # ---- intake --------------------------------------------------------------------------------

    async def enqueue_fix(
        self, conn: AsyncConnection, diagnosis: DiagnosisReady, *, replay_of: str | None, headers: dict[str, str]
    ) -> bool:
        """Record the fix work for a diagnosis (in the delivery's transaction); False if already queued."""
        key = f"attempts:{diagnosis.issue_id}"
        attempts = int(await self.rt.store.kv_get(key, conn) or 0)
        attempt = attempts + 1  # every new diagnosis of an issue (including a replay) is a new attempt
        queued = await self.rt.work.enqueue(
            conn,
            kind=FIX_WORK,
            dedup_key=f"fix:{diagnosis.event_id}",
            payload={"diagnosis": diagnosis.model_dump(mode="json"), "attempt": attempt},
            priority=diagnosis.issue.severity.rank,
            issue_id=diagnosis.issue_id,
            headers=headers,
        )
        if queued:
            await self.rt.store.kv_set(key, attempt, conn)
        return queued

    # ---- the worker ----------------------------------------------------------------------------

    async def run_fix(self, item: WorkItem, ctx: WorkContext) -> None:
        """Work a fix item: implement, then announce the outcome."""
        diagnosis = DiagnosisReady.model_validate(item.payload["diagnosis"])
        attempt = int(item.payload.get("attempt", 1))
        if (refusal := auto_fix_refusal(diagnosis.issue.severity)) is not None:
            # Policy would block the commit anyway; skipping here spares the workspace and test runs.
            ctx.record(
                "implementer.skipped",
                ActionStatus.SKIPPED,
                refusal.reason,
                issue_id=diagnosis.issue_id,
                details={"severity": diagnosis.issue.severity.value},
                caused_by=diagnosis,
            )
            return
        config = self.rt.config()
        if config is None:
            raise RetryLater(30, "configuration unknown or stale: failing closed")
        await self.fix(diagnosis, ctx, config=config, attempt=attempt, approval_id=item.payload.get("approval_id"))

    async def fix(
        self, diagnosis: DiagnosisReady, ctx: WorkContext, *, config: MedicConfig, attempt: int, approval_id: Any = None
    ) -> FixOutcome:
        """Make the fix for one diagnosis with what past fixes teach, remember its strategy, announce the outcome."""
        approved = await self._approved(approval_id)
        learning = await self.memory.learning_for(diagnosis)

        def before(action: str) -> None:
            ctx.require_running(action, issue_id=diagnosis.issue_id)

        def audit(action: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
            ctx.record(action, status, summary, issue_id=diagnosis.issue_id, details=details, caused_by=diagnosis)

        try:
            outcome = await implement_fix(
                diagnosis,
                target=self.target,
                repo=self.repo,
                options=self.options,
                config=config,
                forge=self.forge,
                approved=approved,
                attempt=attempt,
                paused=self.rt.paused,
                before_side_effect=before,
                audit=audit,
                learning=learning,
            )
        except FORGE_ERRORS as exc:
            # The commit (if made) stays on the local branch; the retry finds it by its trailer.
            raise RetryLater(30, f"forge unavailable: {exc}") from exc
        await self._remember(outcome, diagnosis, ctx, attempt=attempt)
        await self._announce(outcome, diagnosis, ctx, config=config, attempt=attempt, learning=learning)
        return outcome

    async def _remember(self, outcome: FixOutcome, diagnosis: DiagnosisReady, ctx: WorkContext, *, attempt: int) -> None:
        """Keep the strategy of a fix made (or proposed); analyse the strategies whose tests all failed."""
        key = f"{diagnosis.event_id}:{attempt}"
        async with self.rt.store.transaction() as conn:
            if outcome.kind in (OutcomeKind.COMMITTED, OutcomeKind.NEEDS_APPROVAL):
                await self.memory.remember_fix(
                    conn,
                    key=key,
                    diagnosis=diagnosis,
                    strategy=outcome.strategy,
                    commit_sha=outcome.commit_sha,
                    diff_hash=outcome.diff_hash or None,
                )
            if outcome.kind is not OutcomeKind.NO_FIX:
                return
            failed: dict[FixStrategy, list[TestReport]] = {}
            for candidate in outcome.candidates:
                if candidate.get("tests") == TestOutcome.PASSED.value:
                    continue
                try:
                    strategy = FixStrategy(str(candidate.get("strategy")))
                    tested = TestOutcome(str(candidate.get("tests")))
                except ValueError:
                    continue
                summary = str(candidate.get("test_summary") or "")
                report = TestReport(command=self.target.test_command, outcome=tested, summary=summary)
                failed.setdefault(strategy, []).append(report)
            shape = shape_of(diagnosis)
            for strategy, reports in failed.items():
                analysis = analyse_tests(strategy=strategy, reports=reports)
                new = await self.memory.record_failure(
                    conn, key=f"tests:{key}:{strategy.value}", issue_id=diagnosis.issue_id, shape=shape, analysis=analysis
                )
                if new:
                    record_analysis(ctx, analysis, issue_id=diagnosis.issue_id, shape=shape, caused_by=diagnosis)

    async def _announce(
        self,
        outcome: FixOutcome,
        diagnosis: DiagnosisReady,
        ctx: WorkContext,
        *,
        config: MedicConfig,
        attempt: int,
        learning: StrategyLearning | None = None,
    ) -> None:
        issue_id = diagnosis.issue_id
        details: dict[str, Any] = {
            "outcome": outcome.kind.value,
            "reasons": list(outcome.reasons),
            "candidates": [dict(c) for c in outcome.candidates],
            "refusals": [dict(r) for r in outcome.refusals],
        }
        if learning is not None and (learning.avoid or learning.confidence):
            details["learning"] = learning.as_dict()
        if outcome.kind is OutcomeKind.COMMITTED:
            event = outcome.fix_committed(diagnosis, producer=self.rt.producer, repository=self.repository)
            ctx.emit(event)
            ctx.record(
                "implementer.fix_committed",
                ActionStatus.SUCCEEDED,
                f"committed {outcome.strategy.value} fix {(outcome.commit_sha or '')[:12]} on {outcome.branch}"
                + (f", PR {outcome.pr_url}" if outcome.pr_url else ""),
                issue_id=issue_id,
                reasoning=outcome.description,
                details={
                    **details,
                    "diff": outcome.diff[:100_000],
                    "diff_hash": outcome.diff_hash,
                    "tests": outcome.tests.summary if outcome.tests else "",
                    "test_outcome": outcome.tests.outcome.value if outcome.tests else "",
                    "pr_url": outcome.pr_url,
                    "signature": outcome.signature,
                    "resumed": outcome.resumed,
                },
                caused_by=diagnosis,
            )
            return
        if outcome.kind is OutcomeKind.NEEDS_APPROVAL:
            await self._request_approval(outcome, diagnosis, ctx, config=config, attempt=attempt, details=details)
            return
        if outcome.kind is OutcomeKind.REFUSED:
            # No write is possible: escalate to a human through the approvals queue, with nothing to apply.
            ctx.emit(
                diagnosis.follow_up(
                    ApprovalRequested,
                    producer=self.rt.producer,
                    approval_id=approval_id_for(diagnosis, attempt),
                    kind=ApprovalKind.FIX,
                    requested_by=self.rt.producer.instance,
                    reason="escalation: " + "; ".join(outcome.reasons)[:900],
                    summary="Medic will not write this path; a human must make the change.",
                    diff="",
                    diff_hash=diff_hash(""),
                    expires_at=utcnow() + timedelta(minutes=config.approval_ttl_minutes),
                    issue=diagnosis.issue,
                )
            )
            ctx.record(
                "implementer.escalated",
                ActionStatus.REFUSED,
                "; ".join(outcome.reasons)[:1900],
                issue_id=issue_id,
                details=details,
                caused_by=diagnosis,
            )
            return
        if outcome.kind is OutcomeKind.BLOCKED:
            reason = "; ".join(outcome.reasons)
            if outcome.decision is not None and outcome.decision.waits_for_operator:
                raise RetryLater(30, reason)
            ctx.record(
                "implementer.blocked",
                ActionStatus.SKIPPED,
                reason[:1900],
                issue_id=issue_id,
                details=details,
                caused_by=diagnosis,
            )
            return
        status = ActionStatus.SKIPPED if outcome.kind is OutcomeKind.NEEDS_HUMAN else ActionStatus.FAILED
        ctx.record(
            f"implementer.{outcome.kind.value}",
            status,
            "; ".join(outcome.reasons)[:1900],
            issue_id=issue_id,
            details=details,
            caused_by=diagnosis,
        )

    async def _request_approval(
        self,
        outcome: FixOutcome,
        diagnosis: DiagnosisReady,
        ctx: WorkContext,
        *,
        config: MedicConfig,
        attempt: int,
        details: dict[str, Any],
    ) -> None:
        approval_id = approval_id_for(diagnosis, attempt)
        expires = utcnow() + timedelta(minutes=config.approval_ttl_minutes)
        row = {
            "approval_id": approval_id,
            "issue_id": diagnosis.issue_id,
            "diagnosis": diagnosis.model_dump_json(),
            "attempt": str(attempt),
            "diff": outcome.diff,
            "diff_hash": outcome.diff_hash,
            "base_sha": outcome.base_sha,
            "strategy": outcome.strategy.value,
            "description": outcome.description,
            "tests": (outcome.tests or TestReport(command=self.target.test_command, outcome="not_run")).model_dump_json(),  # type: ignore[arg-type]
            "regression_test": outcome.regression_test,
            "status": "pending",
            "expires_at": expires.timestamp(),
            "decided_by": None,
            "created_at": time.time(),
            "decided_at": None,
        }
        async with self.rt.store.transaction() as conn:
            await conn.execute(self.rt.store.insert_ignore(fix_approvals, ["approval_id"]).values(**row))
        ctx.emit(
            diagnosis.follow_up(
                ApprovalRequested,
                producer=self.rt.producer,
                approval_id=approval_id,
                kind=ApprovalKind.FIX,
                requested_by=self.rt.producer.instance,
                reason="; ".join(outcome.reasons)[:1000],
                summary=f"{outcome.description} ({len(outcome.files_changed)} file(s): {', '.join(outcome.files_changed)})"[
                    :5000
                ],
                diff=outcome.diff[:200_000],
                diff_hash=outcome.diff_hash,
                expires_at=expires,
                issue=diagnosis.issue,
            )
        )
        ctx.record(
            "implementer.approval_requested",
            ActionStatus.SUCCEEDED,
            f"fix for {diagnosis.issue_id} waits for approval: {'; '.join(outcome.reasons)}"[:1900],
            issue_id=diagnosis.issue_id,
            details={**details, "approval_id": approval_id, "diff_hash": outcome.diff_hash, "diff": outcome.diff[:100_000]},
            caused_by=diagnosis,
        )

    async def _approved(self, approval_id: Any) -> ApprovedFix | None:
        if not approval_id:
            return None
        async with self.rt.store.engine.connect() as conn:
            row = (await conn.execute(select(fix_approvals).where(fix_approvals.c.approval_id == str(approval_id)))).first()
        if row is None or row.status != "approved":
            return None
        return ApprovedFix(
            diff=row.diff,
            diff_hash=row.diff_hash,
            base_sha=row.base_sha,
            strategy=FixStrategy(row.strategy),
            description=row.description,
            tests=TestReport.model_validate_json(row.tests),
            regression_test=row.regression_test,
        )

    # ---- decisions -----------------------------------------------------------------------------

    async def expire_approvals_tick(self) -> None:
        """Periodic task: expire stale approval requests."""
        await self.expire_approvals()

    async def expire_approvals(self) -> int:
        """Mark pending approvals past their expiry as expired (audited); how many were."""
        now = time.time()
        async with self.rt.transaction() as tx:
            rows = (
                await tx.conn.execute(
                    select(fix_approvals.c.approval_id, fix_approvals.c.issue_id).where(
                        fix_approvals.c.status == "pending", fix_approvals.c.expires_at < now
                    )
                )
            ).all()
            for approval_id, issue_id in rows:
                await tx.conn.execute(
                    update(fix_approvals)
                    .where(fix_approvals.c.approval_id == approval_id, fix_approvals.c.status == "pending")
                    .values(status="expired", decided_at=now)
                )
                tx.record(
                    "implementer.fix_expired",
                    ActionStatus.SKIPPED,
                    f"fix approval {approval_id} expired without a decision; nothing was pushed",
                    issue_id=issue_id,
                    details={"approval_id": approval_id},
                )
        return len(rows)

    async def decide(self, command: ControlCommand, *, approve: bool) -> None:
        """Apply an approve/reject command to a pending fix approval of this service."""
        if command.approval_id is None or command.approval_kind not in (None, ApprovalKind.FIX):
            return
        async with self.rt.transaction() as tx:
            row = (await tx.conn.execute(select(fix_approvals).where(fix_approvals.c.approval_id == command.approval_id))).first()
            if row is None or row.status != "pending":
                return  # not ours (another service's approval) or already decided
            diagnosis = DiagnosisReady.model_validate_json(row.diagnosis)
            status, action_status, why = "rejected", ActionStatus.SUCCEEDED, "rejected by " + command.actor
            if approve:
                if time.time() > row.expires_at:
                    status, action_status, why = "expired", ActionStatus.REFUSED, "approval arrived after the request expired"
                elif command.diff_hash is not None and command.diff_hash != row.diff_hash:
                    tx.record(
                        "implementer.approval_mismatch",
                        ActionStatus.REFUSED,
                        f"approval {command.approval_id} names diff {command.diff_hash}, the fix is {row.diff_hash}: ignored",
                        issue_id=row.issue_id,
                        caused_by=command,
                    )
                    return
                else:
                    status, why = "approved", "approved by " + command.actor
            await tx.conn.execute(
                update(fix_approvals)
                .where(fix_approvals.c.approval_id == command.approval_id)
                .values(status=status, decided_by=command.actor, decided_at=time.time())
            )
            if status == "rejected":
                analysis = analyse_rejection(strategy=FixStrategy(row.strategy), actor=command.actor, reason=command.reason)
                shape = shape_of(diagnosis)
                if await self.memory.record_failure(
                    tx.conn, key=f"reject:{command.approval_id}", issue_id=row.issue_id, shape=shape, analysis=analysis
                ):
                    record_analysis(tx, analysis, issue_id=row.issue_id, shape=shape, caused_by=command)
            if status == "approved":
                await self.rt.work.enqueue(
                    tx.conn,
                    kind=FIX_WORK,
                    dedup_key=f"fix-approved:{command.approval_id}",
                    payload={
                        "diagnosis": json.loads(row.diagnosis),
                        "attempt": int(row.attempt),
                        "approval_id": command.approval_id,
                    },
                    priority=diagnosis.issue.severity.rank,
                    issue_id=row.issue_id,
                )
            tx.record(
                f"implementer.fix_{status}",
                action_status,
                f"fix approval {command.approval_id}: {why}",
                issue_id=row.issue_id,
                details={"approval_id": command.approval_id, "diff_hash": row.diff_hash, "reason": command.reason},
                caused_by=command,
            )

    # ---- learning from what happened to a fix --------------------------------------------------

    async def learn_from_deployment(self, conn: AsyncConnection, event: DeploymentResult, emitter: Emitter) -> None:
        """A rollback or reopening is a failure of the fix's strategy (analysed); a production promotion a success."""
        bad = event.outcome in (DeploymentOutcome.ROLLED_BACK, DeploymentOutcome.REOPENED)
        good = event.outcome is DeploymentOutcome.PROMOTED and event.stage is DeploymentStage.PRODUCTION
        if not (bad or good):
            return
        fix = await self.memory.fix_for(conn, issue_id=event.issue_id, commit_sha=event.commit_sha)
        if fix is None:
            return  # not a fix this implementer made (or made before it kept a history)
        key = f"deploy:{event.event_id}"
        if good:
            await self.memory.record(
                conn,
                key=key,
                issue_id=fix.issue_id,
                strategy=fix.strategy,
                shape=fix.shape,
                signal=Signal.PROMOTED,
                cause="promoted",
            )
            return
        analysis = analyse_rollback(
            strategy=fix.strategy,
            stage=event.stage.value,
            reason=event.reason,
            checks=event.checks,
            reopened=event.outcome is DeploymentOutcome.REOPENED,
        )
        if await self.memory.record_failure(conn, key=key, issue_id=fix.issue_id, shape=fix.shape, analysis=analysis):
            record_analysis(emitter, analysis, issue_id=fix.issue_id, shape=fix.shape, caused_by=event, run_id=event.run_id)

    async def learn_from_feedback(self, command: ControlCommand) -> None:
        """A human's rating moves the confidence of the strategy that made the fix; a poor one is analysed."""
        if command.rating is None or not command.issue_id:
            return
        async with self.rt.transaction() as tx:
            fix = await self.memory.fix_for(tx.conn, issue_id=command.issue_id)
            strategy = command.fix_strategy or (fix.strategy if fix else None)
            if strategy is None:
                return  # a rating of an issue no strategy fixed: nothing to learn about strategies
            shape = fix.shape if fix is not None else IssueShape(fingerprint="", error_kind="unknown")
            comment = command.comment or ""
            analysis = analyse_rating(strategy=strategy, rating=command.rating, actor=command.actor, comment=comment)
            new = await self.memory.record(
                tx.conn,
                key=f"feedback:{command.event_id}",
                issue_id=command.issue_id,
                strategy=strategy,
                shape=shape,
                signal=Signal.RATED,
                cause=analysis.cause if analysis else f"rated {command.rating}/5",
                rating=command.rating,
            )
            if new and analysis is not None:
                record_analysis(tx, analysis, issue_id=command.issue_id, shape=shape, caused_by=command, rating=command.rating)

    async def learn_from_deploy_rejection(self, command: ControlCommand) -> None:
        """A human who rejects deploying a fix rejects the fix: a failure of its strategy."""
        if command.approval_kind is not ApprovalKind.DEPLOY or not command.issue_id:
            return
        async with self.rt.transaction() as tx:
            fix = await self.memory.fix_for(tx.conn, issue_id=command.issue_id)
            if fix is None:
                return
            analysis = analyse_rejection(strategy=fix.strategy, actor=command.actor, reason=command.reason)
            key = f"reject:{command.approval_id or command.event_id}"
            if await self.memory.record_failure(tx.conn, key=key, issue_id=fix.issue_id, shape=fix.shape, analysis=analysis):
                record_analysis(tx, analysis, issue_id=fix.issue_id, shape=fix.shape, caused_by=command)
