"""The learning loop's step: what happened to a fix, kept in the strategy memory as an outcome of its strategy.

Each function records one signal (idempotent on the key of the event that carried it) and returns the
:class:`Lesson` to audit when the signal is a new failure; the worker records it (steps emit nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ControlCommand, DeploymentOutcome, DeploymentResult, DiagnosisReady, FixStrategy

from ..adapters.strategy_memory import StrategyMemory
from ..domain.failure_analysis import (
    FailureAnalysis,
    analyse_rating,
    analyse_rejection,
    analyse_rollback,
    analyse_tests,
    failed_strategies,
)
from ..domain.outcome import FixOutcome, OutcomeKind
from ..domain.strategy_memory import IssueShape, Signal, deployment_verdict, shape_of

__all__ = ["Lesson", "from_deploy_rejection", "from_deployment", "from_fix", "from_rating", "from_rejection"]


@dataclass(frozen=True)
class Lesson:
    """A new failure of a strategy, analysed: what the issue's audit trail is told."""

    analysis: FailureAnalysis
    issue_id: str
    shape: IssueShape
    extra: dict[str, Any] = field(default_factory=dict)  # more audit details (the run, the rating)


async def _failure(memory: StrategyMemory, conn: AsyncConnection, key: str, lesson: Lesson) -> list[Lesson]:
    new = await memory.record_failure(conn, key=key, issue_id=lesson.issue_id, shape=lesson.shape, analysis=lesson.analysis)
    return [lesson] if new else []


async def from_fix(
    memory: StrategyMemory,
    conn: AsyncConnection,
    outcome: FixOutcome,
    diagnosis: DiagnosisReady,
    *,
    attempt: int,
    test_command: str,
) -> list[Lesson]:
    """Keep the strategy of a fix made (or proposed); a failure of each strategy whose tests all failed."""
    key = f"{diagnosis.event_id}:{attempt}"
    if outcome.kind in (OutcomeKind.COMMITTED, OutcomeKind.NEEDS_APPROVAL):
        await memory.remember_fix(
            conn,
            key=key,
            diagnosis=diagnosis,
            strategy=outcome.strategy,
            commit_sha=outcome.commit_sha,
            diff_hash=outcome.diff_hash or None,
        )
    if outcome.kind is not OutcomeKind.NO_FIX:
        return []
    shape = shape_of(diagnosis)
    lessons: list[Lesson] = []
    for strategy, reports in failed_strategies(outcome.candidates, test_command=test_command).items():
        lesson = Lesson(analyse_tests(strategy=strategy, reports=reports), diagnosis.issue_id, shape)
        lessons += await _failure(memory, conn, f"tests:{key}:{strategy.value}", lesson)
    return lessons


async def from_rejection(
    memory: StrategyMemory,
    conn: AsyncConnection,
    command: ControlCommand,
    *,
    issue_id: str,
    diagnosis: DiagnosisReady,
    strategy: FixStrategy,
) -> list[Lesson]:
    """A fix approval a human rejected: a failure of its strategy."""
    analysis = analyse_rejection(strategy=strategy, actor=command.actor, reason=command.reason)
    return await _failure(memory, conn, f"reject:{command.approval_id}", Lesson(analysis, issue_id, shape_of(diagnosis)))


async def from_deployment(memory: StrategyMemory, conn: AsyncConnection, event: DeploymentResult) -> list[Lesson]:
    """A rollback or reopening is a failure of the fix's strategy (analysed); a production promotion a success."""
    good = deployment_verdict(event)
    if good is None:
        return []
    fix = await memory.fix_for(conn, issue_id=event.issue_id, commit_sha=event.commit_sha)
    if fix is None:
        return []  # not a fix this implementer made (or made before it kept a history)
    key = f"deploy:{event.event_id}"
    if good:
        await memory.record(
            conn, key=key, issue_id=fix.issue_id, strategy=fix.strategy, shape=fix.shape, signal=Signal.PROMOTED, cause="promoted"
        )
        return []
    analysis = analyse_rollback(
        strategy=fix.strategy,
        stage=event.stage.value,
        reason=event.reason,
        checks=event.checks,
        reopened=event.outcome is DeploymentOutcome.REOPENED,
    )
    return await _failure(memory, conn, key, Lesson(analysis, fix.issue_id, fix.shape, {"run_id": event.run_id}))


async def from_rating(memory: StrategyMemory, conn: AsyncConnection, command: ControlCommand) -> list[Lesson]:
    """A human's rating moves the confidence of the strategy that made the fix; a poor one is a failure."""
    if command.rating is None or not command.issue_id:
        return []
    fix = await memory.fix_for(conn, issue_id=command.issue_id)
    strategy = command.fix_strategy or (fix.strategy if fix else None)
    if strategy is None:
        return []  # a rating of an issue no strategy fixed: nothing to learn about strategies
    shape = fix.shape if fix is not None else IssueShape(fingerprint="", error_kind="unknown")
    analysis = analyse_rating(strategy=strategy, rating=command.rating, actor=command.actor, comment=command.comment or "")
    new = await memory.record(
        conn,
        key=f"feedback:{command.event_id}",
        issue_id=command.issue_id,
        strategy=strategy,
        shape=shape,
        signal=Signal.RATED,
        cause=analysis.cause if analysis else f"rated {command.rating}/5",
        rating=command.rating,
    )
    return [Lesson(analysis, command.issue_id, shape, {"rating": command.rating})] if new and analysis is not None else []


async def from_deploy_rejection(memory: StrategyMemory, conn: AsyncConnection, command: ControlCommand) -> list[Lesson]:
    """A human who rejects deploying a fix rejects the fix: a failure of its strategy."""
    if not command.issue_id:
        return []
    fix = await memory.fix_for(conn, issue_id=command.issue_id)
    if fix is None:
        return []
    analysis = analyse_rejection(strategy=fix.strategy, actor=command.actor, reason=command.reason)
    key = f"reject:{command.approval_id or command.event_id}"
    return await _failure(memory, conn, key, Lesson(analysis, fix.issue_id, fix.shape))
