"""The implementer's worker: a ``fix`` work item in, its outcome out as events and audit — the only emitter.

:class:`FixWorker` runs :func:`~medic_implementer.job.implement_fix` for a work item and announces its
:class:`FixOutcome`: FixCommitted and ActionRecorded (diff, test output) for a commit,
ApprovalRequested (bound to the diff hash) when policy wants a human, an audited refusal or
escalation otherwise. Pending approvals live in the service's store (:class:`FixApprovals`), so an
approval that arrives after a restart still finds its diff; approve/reject commands are ruled on here.

The learning loop closes here too: every fix is remembered with its strategy in the strategy memory;
a fix whose tests all failed, a rejection, a rollback (DeploymentResult) or a rating (the
``feedback`` command) becomes an outcome of that strategy and, when it is a failure, an analysis in
the issue's audit trail; the next fix ranks its candidates with what the memory recalls.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionStatus,
    ApprovalKind,
    ApprovalRequested,
    ControlCommand,
    DeploymentResult,
    DiagnosisReady,
    FixStrategy,
    MedicConfig,
    TargetConfig,
    auto_fix_refusal,
    utcnow,
)
from medic_runtime import Emitter, RetryLater, ServiceRuntime, WorkContext, WorkItem

from .adapters.approvals import FixApprovals
from .adapters.forge import FORGE_ERRORS, Forge
from .adapters.strategy_memory import StrategyMemory
from .domain.approval import ApprovalRuling, approval_id_for, rule_on_approval
from .domain.candidates import diff_hash
from .domain.outcome import FixOutcome, OutcomeKind
from .domain.strategy_memory import StrategyRecall
from .job import FixOptions, implement_fix, learn
from .job.learn import Lesson

__all__ = ["FAILURE_ANALYSED", "FIX_WORK", "FixWorker", "record_analysis"]

FIX_WORK = "fix"
FAILURE_ANALYSED = "implementer.fix_failure_analysed"


def record_analysis(emitter: Emitter, lesson: Lesson, *, caused_by: Any) -> None:
    """Audit why a fix failed (projected by control-api into the issue's actions)."""
    emitter.record(
        FAILURE_ANALYSED,
        ActionStatus.SUCCEEDED,
        lesson.analysis.summary[:1900],
        issue_id=lesson.issue_id,
        reasoning=lesson.analysis.lesson,
        details={**lesson.analysis.details(lesson.shape), **lesson.extra},
        caused_by=caused_by,
    )


@dataclass
class FixWorker:
    """What the implementer's worker and command handling share: the target, its forge, how fixes are made."""

    rt: ServiceRuntime
    target: TargetConfig
    repo: Path
    forge: Forge | None
    options: FixOptions
    repository: str

    @property
    def memory(self) -> StrategyMemory:
        """The strategy memory in this service's store."""
        return StrategyMemory(self.rt.store)

    @property
    def approvals(self) -> FixApprovals:
        """The pending and decided fix approvals in this service's store."""
        return FixApprovals(self.rt.store)

    # ---- the fix work item ---------------------------------------------------------------------

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
        """Make the fix for one diagnosis with what the strategy memory recalls, remember its strategy, announce it."""
        approved = await self.approvals.approved(approval_id)
        recall = await self.memory.recall(diagnosis)

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
                recall=recall,
            )
        except FORGE_ERRORS as exc:
            # The commit (if made) stays on the local branch; the retry finds it by its trailer.
            raise RetryLater(30, f"forge unavailable: {exc}") from exc
        await self._remember(outcome, diagnosis, ctx, attempt=attempt)
        await self._announce(outcome, diagnosis, ctx, config=config, attempt=attempt, recall=recall)
        return outcome

    async def _remember(self, outcome: FixOutcome, diagnosis: DiagnosisReady, ctx: WorkContext, *, attempt: int) -> None:
        """Keep the strategy of a fix made (or proposed); analyse the strategies whose tests all failed."""
        async with self.rt.store.transaction() as conn:
            lessons = await learn.from_fix(
                self.memory, conn, outcome, diagnosis, attempt=attempt, test_command=self.target.test_command
            )
            for lesson in lessons:
                record_analysis(ctx, lesson, caused_by=diagnosis)

    async def _announce(
        self,
        outcome: FixOutcome,
        diagnosis: DiagnosisReady,
        ctx: WorkContext,
        *,
        config: MedicConfig,
        attempt: int,
        recall: StrategyRecall | None = None,
    ) -> None:
        """The events and audit record of an outcome (a BLOCKED one waiting for an operator is retried instead)."""
        issue_id = diagnosis.issue_id
        reasons = "; ".join(outcome.reasons)
        details: dict[str, Any] = {
            "outcome": outcome.kind.value,
            "reasons": list(outcome.reasons),
            "candidates": [dict(c) for c in outcome.candidates],
            "refusals": [dict(r) for r in outcome.refusals],
        }
        if recall is not None and (recall.avoid or recall.confidence):
            details["learning"] = recall.as_dict()  # the audit key dashboards read
        if outcome.kind is OutcomeKind.COMMITTED:
            ctx.emit(outcome.fix_committed(diagnosis, producer=self.rt.producer, repository=self.repository))
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
        elif outcome.kind is OutcomeKind.NEEDS_APPROVAL:
            approval_id = approval_id_for(diagnosis, attempt)
            expires = utcnow() + timedelta(minutes=config.approval_ttl_minutes)
            await self.approvals.add(
                approval_id=approval_id,
                diagnosis=diagnosis,
                attempt=attempt,
                outcome=outcome,
                test_command=self.target.test_command,
                expires_at=expires.timestamp(),
            )
            files = ", ".join(outcome.files_changed)
            ctx.emit(
                self._approval_request(
                    diagnosis,
                    approval_id=approval_id,
                    reason=reasons[:1000],
                    summary=f"{outcome.description} ({len(outcome.files_changed)} file(s): {files})"[:5000],
                    diff=outcome.diff[:200_000],
                    diff_hash=outcome.diff_hash,
                    expires_at=expires,
                )
            )
            ctx.record(
                "implementer.approval_requested",
                ActionStatus.SUCCEEDED,
                f"fix for {issue_id} waits for approval: {reasons}"[:1900],
                issue_id=issue_id,
                details={**details, "approval_id": approval_id, "diff_hash": outcome.diff_hash, "diff": outcome.diff[:100_000]},
                caused_by=diagnosis,
            )
        elif outcome.kind is OutcomeKind.REFUSED:
            # No write is possible: escalate to a human through the approvals queue, with nothing to apply.
            ctx.emit(
                self._approval_request(
                    diagnosis,
                    approval_id=approval_id_for(diagnosis, attempt),
                    reason="escalation: " + reasons[:900],
                    summary="Medic will not write this path; a human must make the change.",
                    diff="",
                    diff_hash=diff_hash(""),
                    expires_at=utcnow() + timedelta(minutes=config.approval_ttl_minutes),
                )
            )
            ctx.record(
                "implementer.escalated",
                ActionStatus.REFUSED,
                reasons[:1900],
                issue_id=issue_id,
                details=details,
                caused_by=diagnosis,
            )
        elif outcome.kind is OutcomeKind.BLOCKED:
            if outcome.decision is not None and outcome.decision.waits_for_operator:
                raise RetryLater(30, reasons)
            ctx.record(
                "implementer.blocked",
                ActionStatus.SKIPPED,
                reasons[:1900],
                issue_id=issue_id,
                details=details,
                caused_by=diagnosis,
            )
        else:
            status = ActionStatus.SKIPPED if outcome.kind is OutcomeKind.NEEDS_HUMAN else ActionStatus.FAILED
            ctx.record(
                f"implementer.{outcome.kind.value}",
                status,
                reasons[:1900],
                issue_id=issue_id,
                details=details,
                caused_by=diagnosis,
            )

    def _approval_request(self, diagnosis: DiagnosisReady, **fields: Any) -> ApprovalRequested:
        return diagnosis.follow_up(
            ApprovalRequested,
            producer=self.rt.producer,
            kind=ApprovalKind.FIX,
            requested_by=self.rt.producer.instance,
            issue=diagnosis.issue,
            **fields,
        )

    # ---- approvals -----------------------------------------------------------------------------

    async def expire_approvals_tick(self) -> None:
        """Periodic task: expire stale approval requests."""
        await self.expire_approvals()

    async def expire_approvals(self) -> int:
        """Mark pending approvals past their expiry as expired (audited); how many were."""
        async with self.rt.transaction() as tx:
            expired = await self.approvals.expire(tx.conn, now=time.time())
            for approval_id, issue_id in expired:
                tx.record(
                    "implementer.fix_expired",
                    ActionStatus.SKIPPED,
                    f"fix approval {approval_id} expired without a decision; nothing was pushed",
                    issue_id=issue_id,
                    details={"approval_id": approval_id},
                )
        return len(expired)

    async def decide(self, command: ControlCommand, *, approve: bool) -> None:
        """Apply an approve/reject command to a pending fix approval of this service."""
        if command.approval_id is None or command.approval_kind not in (None, ApprovalKind.FIX):
            return
        async with self.rt.transaction() as tx:
            row = await self.approvals.get(tx.conn, command.approval_id)
            if row is None or row.status != "pending":
                return  # not ours (another service's approval) or already decided
            diagnosis = DiagnosisReady.model_validate_json(row.diagnosis)
            verdict = rule_on_approval(
                approve=approve,
                actor=command.actor,
                expires_at=row.expires_at,
                now=time.time(),
                named_hash=command.diff_hash,
                diff_hash=row.diff_hash,
            )
            if verdict.ruling is ApprovalRuling.MISMATCH:
                tx.record(
                    "implementer.approval_mismatch",
                    verdict.status,
                    f"approval {command.approval_id} {verdict.why}: ignored",
                    issue_id=row.issue_id,
                    caused_by=command,
                )
                return
            status = verdict.ruling.value
            await self.approvals.decide(tx.conn, command.approval_id, status=status, actor=command.actor)
            if verdict.ruling is ApprovalRuling.REJECTED:
                strategy = FixStrategy(row.strategy)
                rejected = await learn.from_rejection(
                    self.memory, tx.conn, command, issue_id=row.issue_id, diagnosis=diagnosis, strategy=strategy
                )
                for lesson in rejected:
                    record_analysis(tx, lesson, caused_by=command)
            if verdict.ruling is ApprovalRuling.APPROVED:
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
                verdict.status,
                f"fix approval {command.approval_id}: {verdict.why}",
                issue_id=row.issue_id,
                details={"approval_id": command.approval_id, "diff_hash": row.diff_hash, "reason": command.reason},
                caused_by=command,
            )

    async def reject(self, command: ControlCommand) -> None:
        """A reject command: of a pending fix approval, or of deploying a fix (a failure of its strategy)."""
        await self.decide(command, approve=False)
        await self.learn_from_deploy_rejection(command)

    # ---- learning from what happened to a fix --------------------------------------------------

    async def learn_from_deployment(self, conn: AsyncConnection, event: DeploymentResult, emitter: Emitter) -> None:
        """A rollback or reopening is a failure of the fix's strategy (analysed); a production promotion a success."""
        for lesson in await learn.from_deployment(self.memory, conn, event):
            record_analysis(emitter, lesson, caused_by=event)

    async def learn_from_feedback(self, command: ControlCommand) -> None:
        """A human's rating moves the confidence of the strategy that made the fix; a poor one is analysed."""
        if command.rating is None or not command.issue_id:
            return
        async with self.rt.transaction() as tx:
            for lesson in await learn.from_rating(self.memory, tx.conn, command):
                record_analysis(tx, lesson, caused_by=command)

    async def learn_from_deploy_rejection(self, command: ControlCommand) -> None:
        """A human who rejects deploying a fix rejects the fix: a failure of its strategy."""
        if command.approval_kind is not ApprovalKind.DEPLOY or not command.issue_id:
            return
        async with self.rt.transaction() as tx:
            for lesson in await learn.from_deploy_rejection(self.memory, tx.conn, command):
                record_analysis(tx, lesson, caused_by=command)
