"""The ``diagnose`` worker: one IssueDetected in, one DiagnosisReady (and its audit) out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from medic_contracts import ActionStatus, IssueDetected, MedicConfig, TargetConfig, is_auto_handled
from medic_runtime import Redactor, RetryLater, WorkContext, WorkItem

from .adapters.database import ReadOnlyDatabase
from .adapters.providers import DiagnosisProvider
from .adapters.repo import CheckoutCache
from .adapters.store import CaseMemory
from .domain.errors import ProviderUnavailable, RepositoryUnavailable
from .domain.safety import keeps_waiting
from .domain.sql_guard import QueryAttempt
from .job.diagnose import run_diagnosis
from .job.slow_query import diagnose_slow_query, is_slow_query

__all__ = ["Diagnoser"]

log = logging.getLogger("medic.investigator")


@dataclass
class Diagnoser:
    """What the worker needs: targets, their providers, checkouts, memory and current config."""

    targets: dict[str, TargetConfig]
    providers: dict[str, DiagnosisProvider]
    checkouts: CheckoutCache
    memory: CaseMemory
    config: Callable[[], MedicConfig | None]  # the runtime's cached configuration (None: unknown or stale)
    needs_human_below: dict[str, float] = field(default_factory=dict)
    unavailable_patience_s: dict[str, float] = field(default_factory=dict)  # by target; 30 min when not given
    history_window: timedelta = timedelta(days=3)
    memory_threshold: float = 0.5
    redactor: Redactor = field(default_factory=Redactor)
    databases: dict[str, ReadOnlyDatabase] = field(default_factory=dict)  # targets with a [database] section

    async def __call__(self, item: WorkItem, ctx: WorkContext) -> None:
        """Diagnose the issue of ``item``; provider outages put it back, nothing is lost."""
        issue = IssueDetected.model_validate(item.payload)
        if not is_auto_handled(issue.severity):
            # P4 is never auto-fixed (seed SLA): no LLM spend on it; it waits for the weekly review.
            ctx.record(
                "investigator.skipped",
                ActionStatus.SKIPPED,
                "P4 issues are not diagnosed automatically; logged for the weekly review",
                issue_id=issue.issue_id,
                details={"severity": issue.severity.value},
                caused_by=issue,
            )
            return
        target = self.targets.get(issue.target)
        if target is None:
            ctx.record(
                "investigator.diagnose",
                ActionStatus.FAILED,
                f"no medic.toml for target {issue.target!r} in MEDIC_TARGETS: issue not diagnosed",
                issue_id=issue.issue_id,
                caused_by=issue,
            )
            return
        config = self.config()
        if is_slow_query(issue):
            await self._slow_query(issue, ctx, config=config)
            return
        try:
            repo = await self.checkouts.checkout(
                clone=target.repo_path(), commit=issue.commit_sha, default_branch=target.default_branch, name=target.name
            )
        except RepositoryUnavailable as exc:
            log.warning("checkout of %s failed: %s", target.name, exc)
            raise
        queries: list[QueryAttempt] = []
        # The work item was recorded when the issue arrived: that is how long this diagnosis has waited.
        postpone = keeps_waiting(
            waited_s=time.time() - item.created_at, patience_s=self.unavailable_patience_s.get(target.name, 1800.0)
        )
        try:
            outcome = await run_diagnosis(
                issue,
                target=target,
                repo=repo,
                provider=self.providers[target.name],
                memory=self.memory,
                config=config,
                producer=ctx.producer,
                redactor=self.redactor,
                needs_human_below=self.needs_human_below.get(target.name, 0.4),
                memory_threshold=self.memory_threshold,
                history_window=self.history_window,
                queries=queries,
                postpone_unavailable=postpone,
            )
        except ProviderUnavailable as exc:
            self._audit_queries(queries, issue, ctx)
            ctx.record(
                "investigator.llm_unavailable",
                ActionStatus.SKIPPED,
                f"diagnosis postponed {exc.retry_after_s:.0f}s: {exc.reason}",
                issue_id=issue.issue_id,
                caused_by=issue,
            )
            raise RetryLater(exc.retry_after_s, exc.reason) from None
        except Exception:
            if queries:  # a failed attempt's events are dropped: write the query audit first
                self._audit_queries(queries, issue, ctx)
                await ctx.checkpoint()
            raise
        self._audit_queries(queries, issue, ctx)
        event = outcome.event
        ctx.emit(event)
        where = (
            f"{event.affected_file}:{event.affected_lines.first}"
            if event.affected_file and event.affected_lines
            else "not localised"
        )
        ctx.record(
            "investigator.diagnosed",
            ActionStatus.SUCCEEDED,
            f"{event.fix_strategy.value} at {where} (confidence {event.confidence:.2f}, {event.provider})"
            + (" — needs a human" if event.needs_human else ""),
            issue_id=issue.issue_id,
            reasoning=event.root_cause,
            details={
                "diagnosis_event_id": event.event_id,
                "fix_strategy": event.fix_strategy.value,
                "affected_file": event.affected_file,
                "confidence": event.confidence,
                "fixability": event.fixability,
                "needs_human": event.needs_human,
                "provider": event.provider,
                "model": event.model,
                "cost_usd": event.cost_usd,
                "input_tokens": event.tokens.input_tokens,
                "output_tokens": event.tokens.output_tokens,
                "commit": repo.commit,
            },
            caused_by=issue,
        )
        if outcome.budget_exceeded is not None:
            exceeded = outcome.budget_exceeded
            ctx.record(
                "investigator.llm_budget",
                ActionStatus.REFUSED,
                f"{exceeded.scope} LLM budget exhausted (${exceeded.spent_usd:.2f} of ${exceeded.limit_usd:.2f}): "
                "a human decides",
                issue_id=issue.issue_id,
                details={"scope": exceeded.scope, "spent_usd": exceeded.spent_usd, "limit_usd": exceeded.limit_usd},
                caused_by=issue,
            )

    def _audit_queries(self, queries: list[QueryAttempt], issue: IssueDetected, ctx: WorkContext) -> None:
        """One ActionRecorded per database query the model attempted: refused and failed ones above all."""
        statuses = {"ok": ActionStatus.SUCCEEDED, "refused": ActionStatus.REFUSED, "error": ActionStatus.FAILED}
        for attempt in queries:
            outcome = attempt.reason or f"{attempt.rows} row(s) in {attempt.elapsed_ms:.0f} ms"
            ctx.record(
                "investigator.query_database",
                statuses[attempt.status],
                f"query_database {attempt.status}: {outcome}"[:2000],
                issue_id=issue.issue_id,
                details={
                    "sql": attempt.sql[:4000],
                    "status": attempt.status,
                    "reason": attempt.reason,
                    "rows": attempt.rows,
                    "elapsed_ms": round(attempt.elapsed_ms, 1),
                    "at": attempt.at.isoformat(),
                },
                caused_by=issue,
            )
        queries.clear()

    async def _slow_query(self, issue: IssueDetected, ctx: WorkContext, *, config: MedicConfig | None) -> None:
        """A slow-query issue: EXPLAIN, propose an index, ask a human to approve it."""
        outcome = await diagnose_slow_query(
            issue, database=self.databases.get(issue.target), producer=ctx.producer, config=config, redactor=self.redactor
        )
        event = outcome.event
        ctx.emit(event)
        ctx.record(
            "investigator.diagnosed",
            ActionStatus.SUCCEEDED,
            f"{event.fix_strategy.value}: {event.root_cause}"[:2000] + " — needs a human",
            issue_id=issue.issue_id,
            reasoning=event.root_cause,
            details={
                "diagnosis_event_id": event.event_id,
                "fix_strategy": event.fix_strategy.value,
                "affected_file": event.affected_file,
                "needs_human": event.needs_human,
                "provider": event.provider,
                "index": outcome.proposal.sql if outcome.proposal else None,
            },
            caused_by=issue,
        )
        if outcome.approval is not None:
            ctx.emit(outcome.approval)
            ctx.record(
                "investigator.approval_requested",
                ActionStatus.SUCCEEDED,
                f"index proposal for {issue.issue_id} waits for approval: {outcome.approval.summary}"[:2000],
                issue_id=issue.issue_id,
                details={"approval_id": outcome.approval.approval_id, "diff_hash": outcome.approval.diff_hash},
                caused_by=issue,
            )
