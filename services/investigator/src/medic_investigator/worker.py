"""The ``diagnose`` worker: one IssueDetected in, one DiagnosisReady (and its audit) out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from medic_contracts import ActionStatus, IssueDetected, MedicConfig, Severity, TargetConfig
from medic_runtime import Redactor, RetryLater, WorkContext, WorkItem

from .adapters.repo import CheckoutCache
from .adapters.store import CaseMemory
from .domain.errors import ProviderUnavailable, RepositoryUnavailable
from .investigation import run_diagnosis
from .providers import DiagnosisProvider

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
    history_window: timedelta = timedelta(days=3)
    memory_threshold: float = 0.5
    redactor: Redactor = field(default_factory=Redactor)

    async def __call__(self, item: WorkItem, ctx: WorkContext) -> None:
        """Diagnose the issue of ``item``; provider outages put it back, nothing is lost."""
        issue = IssueDetected.model_validate(item.payload)
        if issue.severity is Severity.P4:
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
        try:
            repo = await self.checkouts.checkout(
                clone=target.repo_path(), commit=issue.commit_sha, default_branch=target.default_branch, name=target.name
            )
        except RepositoryUnavailable as exc:
            log.warning("checkout of %s failed: %s", target.name, exc)
            raise
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
            )
        except ProviderUnavailable as exc:
            ctx.record(
                "investigator.llm_unavailable",
                ActionStatus.SKIPPED,
                f"diagnosis postponed {exc.retry_after_s:.0f}s: {exc.reason}",
                issue_id=issue.issue_id,
                caused_by=issue,
            )
            raise RetryLater(exc.retry_after_s, exc.reason) from None
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
