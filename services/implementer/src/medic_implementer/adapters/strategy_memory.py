"""The strategy memory: which strategy fixed which issue, and what came of it, in the service's store.

The store side of the learning loop. :mod:`..domain.strategy_memory` decides what the history
means (a :class:`StrategyRecall` for an issue); this module reads and writes it (``strategy_fixes``,
``strategy_outcomes``) and turns the signals the implementer hears about — a rollback, a rejection,
a rating, a fix whose tests all failed — into outcomes and a failure analysis for the audit trail.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import DiagnosisReady, FixStrategy
from medic_runtime import ServiceStore

from ..domain.failure_analysis import FailureAnalysis
from ..domain.strategy_memory import IssueShape, Signal, StrategyOutcome, StrategyRecall, recall_strategies, shape_of
from .store import strategy_fixes, strategy_outcomes

__all__ = ["FixOnRecord", "StrategyMemory"]

HISTORY_LIMIT = 5000  # the most recent outcomes the ranking learns from


@dataclass(frozen=True, slots=True)
class FixOnRecord:
    """A fix the implementer made for an issue: its strategy and the issue's shape."""

    issue_id: str
    strategy: FixStrategy
    shape: IssueShape
    commit_sha: str | None


def _shape(row: Any) -> IssueShape:
    return IssueShape(fingerprint=row.fingerprint, error_kind=row.error_kind, file=row.file, function=row.function)


@dataclass(frozen=True, slots=True)
class StrategyMemory:
    """Reads and writes the implementer's strategy history in its store."""

    store: ServiceStore

    async def recall(self, diagnosis: DiagnosisReady) -> StrategyRecall:
        """What the memory recalls for this diagnosis's issue (strategies to avoid, confidence)."""
        async with self.store.engine.connect() as conn:
            rows = (
                await conn.execute(select(strategy_outcomes).order_by(strategy_outcomes.c.at.desc()).limit(HISTORY_LIMIT))
            ).all()
        outcomes = []
        for row in rows:
            try:
                strategy, signal = FixStrategy(row.strategy), Signal(row.signal)
            except ValueError:
                continue  # a strategy or signal this version does not know
            outcomes.append(
                StrategyOutcome(
                    strategy=strategy, shape=_shape(row), signal=signal, at=row.at, issue_id=row.issue_id, rating=row.rating
                )
            )
        return recall_strategies(outcomes, shape_of(diagnosis))

    async def remember_fix(
        self,
        conn: AsyncConnection,
        *,
        key: str,
        diagnosis: DiagnosisReady,
        strategy: FixStrategy,
        commit_sha: str | None,
        diff_hash: str | None,
    ) -> None:
        """Keep which strategy made the fix for an issue (idempotent on ``key``)."""
        shape = shape_of(diagnosis)
        row = {
            "fix_key": key[:300],
            "issue_id": diagnosis.issue_id,
            "strategy": strategy.value,
            "fingerprint": shape.fingerprint,
            "error_kind": shape.error_kind,
            "file": shape.file,
            "function": shape.function,
            "commit_sha": commit_sha,
            "diff_hash": diff_hash,
            "created_at": time.time(),
        }
        await conn.execute(self.store.upsert(strategy_fixes, ["fix_key"], row, ["commit_sha", "diff_hash"]))

    async def fix_for(self, conn: AsyncConnection, *, issue_id: str, commit_sha: str | None = None) -> FixOnRecord | None:
        """The fix on record for an issue: the one with ``commit_sha`` if known, else the latest."""
        query = select(strategy_fixes).where(strategy_fixes.c.issue_id == issue_id)
        rows = (await conn.execute(query.order_by(strategy_fixes.c.created_at.desc()))).all()
        if not rows:
            return None
        chosen = next((r for r in rows if commit_sha and r.commit_sha and r.commit_sha.startswith(commit_sha[:12])), rows[0])
        try:
            strategy = FixStrategy(chosen.strategy)
        except ValueError:
            return None
        return FixOnRecord(issue_id=issue_id, strategy=strategy, shape=_shape(chosen), commit_sha=chosen.commit_sha)

    async def record(
        self,
        conn: AsyncConnection,
        *,
        key: str,
        issue_id: str,
        strategy: FixStrategy,
        shape: IssueShape,
        signal: Signal,
        cause: str,
        rating: int | None = None,
    ) -> bool:
        """Add one signal (idempotent on ``key``); True when it is new."""
        row = {
            "signal_key": key[:300],
            "issue_id": issue_id,
            "strategy": strategy.value,
            "fingerprint": shape.fingerprint,
            "error_kind": shape.error_kind,
            "file": shape.file,
            "function": shape.function,
            "signal": signal.value,
            "rating": rating,
            "cause": cause[:2000],
            "at": time.time(),
        }
        result = await conn.execute(self.store.insert_ignore(strategy_outcomes, ["signal_key"]).values(**row))
        return bool(result.rowcount)

    async def record_failure(
        self,
        conn: AsyncConnection,
        *,
        key: str,
        issue_id: str,
        shape: IssueShape,
        analysis: FailureAnalysis,
        rating: int | None = None,
    ) -> bool:
        """Add the signal a failure analysis stands for; True when it is new."""
        return await self.record(
            conn,
            key=key,
            issue_id=issue_id,
            strategy=analysis.strategy,
            shape=shape,
            signal=analysis.signal,
            cause=analysis.cause,
            rating=rating,
        )
