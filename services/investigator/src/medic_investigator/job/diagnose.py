"""Diagnose an investigated issue and build its DiagnosisReady.

:func:`run_diagnosis` investigates (``investigate``), asks a provider, applies memory and the
safety rules (``domain.safety``: protected files, low fixability → a human), and builds the event
for the worker to emit. It runs in-process, so the service worker, the CLI and the benchmark share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from medic_contracts import (
    DiagnosisReady,
    Evidence,
    IssueDetected,
    LineRange,
    LlmBudget,
    MedicConfig,
    Producer,
    SuspectCommit,
    TargetConfig,
)
from medic_runtime import Redactor

from ..adapters.providers import DiagnosisProvider, DiagnosisRequest
from ..adapters.repo import Repository
from ..adapters.store import CaseMemory
from ..domain.diagnosis import Investigation
from ..domain.errors import BudgetExceeded, InvalidAnswer, ProviderRefused, ProviderUnavailable
from ..domain.memory import PastCase, adjust_with_memory, signature_tokens
from ..domain.safety import apply_safety_rules, fallback_diagnosis, protected_globs
from ..domain.sql_guard import QueryAttempt
from .investigate import investigate

__all__ = ["DiagnosisOutcome", "diagnose_issue", "run_diagnosis"]

_INVESTIGATOR = Producer(service="investigator", instance="in-process")


@dataclass(frozen=True, slots=True)
class DiagnosisOutcome:
    """A diagnosis event plus what the worker should audit about how it was reached."""

    event: DiagnosisReady
    budget_exceeded: BudgetExceeded | None = None
    provider_fallback: str | None = None
    notes: tuple[str, ...] = field(default=())
    queries: tuple[QueryAttempt, ...] = ()  # database queries the provider made (audited by the worker)


async def run_diagnosis(
    issue: IssueDetected,
    *,
    target: TargetConfig,
    repo: Path | Repository,
    provider: DiagnosisProvider,
    memory: CaseMemory | None = None,
    config: MedicConfig | None = None,
    producer: Producer = _INVESTIGATOR,
    redactor: Redactor | None = None,
    needs_human_below: float = 0.4,
    memory_threshold: float = 0.5,
    history_window: timedelta = timedelta(days=3),
    queries: list[QueryAttempt] | None = None,
    postpone_unavailable: bool = True,
) -> DiagnosisOutcome:
    """Investigate, diagnose with ``provider``, adjust with memory and policy.

    ProviderUnavailable propagates (the caller retries later) unless ``postpone_unavailable`` is off: then
    the outage is the reason the playbook's diagnosis goes to a human.

    Database queries the provider makes are appended to ``queries`` (the caller's list survives an exception).
    """
    repository = repo if isinstance(repo, Repository) else Repository(repo)
    redactor = redactor or Redactor()
    inv = await investigate(
        issue, target=target, repo=repository, redactor=redactor, config=config, history_window=history_window
    )
    budget = config.llm_budget if config is not None else LlmBudget()
    exceeded: BudgetExceeded | None = None
    fallback: str | None = None
    queries = queries if queries is not None else []
    try:
        request = DiagnosisRequest(
            repo=repository,
            issue_id=issue.issue_id,
            budget=budget,
            severity=issue.severity.value,
            count=issue.frequency.count,
            window=issue.frequency.window_seconds,
            commit=issue.commit_sha or repository.commit,
            queries=queries,
        )
        diagnosis = await provider.diagnose(inv, request)
    except BudgetExceeded as exc:
        exceeded = exc
        diagnosis = fallback_diagnosis(inv, reason=str(exc), kind="budget")
    except ProviderRefused as exc:
        fallback = str(exc)
        diagnosis = fallback_diagnosis(inv, reason=str(exc), kind="llm_error")
    except ProviderUnavailable as exc:
        if postpone_unavailable:
            raise
        fallback = f"the LLM stayed unavailable: {exc.reason}"
        diagnosis = fallback_diagnosis(inv, reason=fallback, kind="llm_unavailable")
    except InvalidAnswer as exc:
        fallback = str(exc)
        diagnosis = fallback_diagnosis(inv, reason=f"the LLM gave no valid diagnosis: {exc}", kind="llm_invalid_output").adjusted(
            tokens=exc.tokens, cost_usd=round(exc.cost_usd, 6)
        )
    if inv.evidence:
        diagnosis = diagnosis.adjusted(evidence=(*inv.evidence, *diagnosis.evidence))
    ctx = inv.context
    tokens = signature_tokens(
        exception_type=issue.exception.type if issue.exception else "",
        message=issue.exception.value if issue.exception else issue.message,
        file=diagnosis.affected_file,
        function=diagnosis.affected_function,
        statement=ctx.statement if ctx else "",
    )
    if memory is not None:
        cases = await memory.recall(fingerprint=issue.fingerprint)
        cases = [c for c in cases if c.issue_id != issue.issue_id or c.outcome is not None]
        diagnosis = adjust_with_memory(
            diagnosis, fingerprint=issue.fingerprint, tokens=tokens, cases=cases, threshold=memory_threshold
        )
    diagnosis = apply_safety_rules(
        diagnosis,
        culprit_protected=inv.protected,
        globs=protected_globs(target, config),
        needs_human_below=needs_human_below,
    )
    event = DiagnosisReady(
        producer=producer,
        issue_id=issue.issue_id,
        correlation_id=issue.correlation_id,
        causation_id=issue.event_id,
        issue=issue.brief(),
        root_cause=redactor.text(diagnosis.root_cause, max_length=4900),
        affected_file=diagnosis.affected_file,
        affected_lines=LineRange(first=diagnosis.affected_lines[0], last=diagnosis.affected_lines[1])
        if diagnosis.affected_lines
        else None,
        affected_function=diagnosis.affected_function,
        suspect_commit=_suspect_commit(inv, at_origin=diagnosis.origin is not None),
        origin=diagnosis.origin,
        fix_strategy=diagnosis.fix_strategy,
        fix_hint=redactor.text(diagnosis.fix_hint, max_length=4900) if diagnosis.fix_hint else None,
        confidence=round(diagnosis.confidence, 3),
        fixability=round(diagnosis.fixability, 3),
        needs_human=diagnosis.needs_human,
        estimated_fix_time=timedelta(minutes=diagnosis.estimated_fix_minutes),
        evidence=tuple(_clean(e, redactor) for e in diagnosis.evidence[:40]),
        provider=diagnosis.provider,
        model=diagnosis.model,
        tokens=diagnosis.tokens,
        cost_usd=diagnosis.cost_usd,
    )
    if memory is not None:
        await memory.remember(
            PastCase(
                issue_id=issue.issue_id,
                fingerprint=issue.fingerprint,
                tokens=tokens,
                strategy=diagnosis.fix_strategy,
                affected_file=diagnosis.affected_file,
                outcome=None,
                root_cause=event.root_cause,
            )
        )
    return DiagnosisOutcome(event=event, budget_exceeded=exceeded, provider_fallback=fallback, queries=tuple(queries))


def _suspect_commit(inv: Investigation, *, at_origin: bool = False) -> SuspectCommit | None:
    """The suspect as the event carries it: the commit that changed the value's origin when the fix is made there."""
    s = inv.origin.commit if at_origin and inv.origin is not None else inv.suspect
    if s is None:
        return None
    return SuspectCommit(
        sha=s.sha,
        author=s.author,
        date=s.date,
        message=s.subject[:500],
        landed_before_first_seen=s.landed_before_first_seen,
        deploy_id=s.deploy_id,
        name_change=s.name_change,
    )


def _clean(item: Evidence, redactor: Redactor) -> Evidence:
    return Evidence(
        kind=item.kind,
        summary=redactor.text(item.summary, max_length=1000),
        detail=redactor.text(item.detail, max_length=2000) if item.detail else None,
        source=redactor.text(item.source, max_length=300) if item.source else None,
    )


async def diagnose_issue(
    issue: IssueDetected,
    *,
    target: TargetConfig,
    repo: Path,
    provider: DiagnosisProvider,
    memory: CaseMemory | None = None,
    config: MedicConfig | None = None,
    producer: Producer = _INVESTIGATOR,
) -> DiagnosisReady:
    """Diagnose one issue in a checkout of the target's repository (for the benchmark and the CLI)."""
    outcome = await run_diagnosis(
        issue, target=target, repo=repo, provider=provider, memory=memory, config=config, producer=producer
    )
    return outcome.event
