"""The investigator's own tables: memory of past cases and LLM spend, with a store and an in-memory implementation."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import FixStrategy
from medic_runtime import ServiceStore

from ..domain.memory import PastCase

__all__ = [
    "SETBACK_OUTCOMES",
    "CaseMemory",
    "InMemoryCaseMemory",
    "InMemorySpendLedger",
    "SpendLedger",
    "StoreCaseMemory",
    "StoreSpendLedger",
    "investigator_metadata",
]

investigator_metadata = MetaData()

cases = Table(
    "investigator_cases",
    investigator_metadata,
    Column("issue_id", String(200), primary_key=True),
    Column("fingerprint", String(200), nullable=False, index=True),
    Column("tokens", Text, nullable=False),
    Column("strategy", String(40), nullable=False),
    Column("affected_file", Text, nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("root_cause", Text, nullable=False, default=""),
    Column("updated_at", Float, nullable=False),
)

#: How many times an issue's fix failed (rolled back, reopened): each one opens a new round of diagnosis.
setbacks = Table(
    "investigator_setbacks",
    investigator_metadata,
    Column("issue_id", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)

spend = Table(
    "investigator_llm_spend",
    investigator_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", String(200), nullable=False, index=True),
    Column("day", String(10), nullable=False, index=True),
    Column("model", String(100), nullable=False),
    Column("usd", Float, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)


#: Outcomes that mean the deployed fix did not hold.
SETBACK_OUTCOMES = frozenset({"rolled_back", "reopened"})


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class CaseMemory(Protocol):
    """Past issues with their strategy and outcome."""

    async def recall(self, *, fingerprint: str, limit: int = 500) -> list[PastCase]:
        """Cases with this fingerprint plus the most recent others (for similarity)."""
        ...

    async def remember(self, case: PastCase) -> None:
        """Record (or replace) the case of an issue."""
        ...

    async def record_outcome(self, *, issue_id: str, outcome: str) -> bool:
        """Set how the fix of an issue ended; False when the issue is unknown."""
        ...


class SpendLedger(Protocol):
    """LLM spend per issue and per day."""

    async def spent(self, *, issue_id: str) -> tuple[float, float]:
        """(spent on this issue, spent today) in USD."""
        ...

    async def add(self, *, issue_id: str, model: str, usd: float, input_tokens: int, output_tokens: int) -> None:
        """Record one call's cost."""
        ...


@dataclass
class InMemoryCaseMemory:
    """Memory kept in the process (benchmarks, tests, one-shot CLI runs)."""

    cases: dict[str, PastCase] = field(default_factory=dict)

    async def recall(self, *, fingerprint: str, limit: int = 500) -> list[PastCase]:
        """Every remembered case (the process holds few)."""
        return list(self.cases.values())[-limit:]

    async def remember(self, case: PastCase) -> None:
        """Keep the case, preserving an outcome already known."""
        old = self.cases.get(case.issue_id)
        self.cases[case.issue_id] = replace(case, outcome=case.outcome or (old.outcome if old else None))

    async def record_outcome(self, *, issue_id: str, outcome: str) -> bool:
        """Set the outcome of a known case."""
        if issue_id not in self.cases:
            return False
        self.cases[issue_id] = replace(self.cases[issue_id], outcome=outcome)
        return True


@dataclass
class InMemorySpendLedger:
    """Spend kept in the process."""

    rows: list[tuple[str, str, float]] = field(default_factory=list)  # (issue_id, day, usd)

    async def spent(self, *, issue_id: str) -> tuple[float, float]:
        """(this issue, today)."""
        today = _today()
        return (sum(u for i, _, u in self.rows if i == issue_id), sum(u for _, d, u in self.rows if d == today))

    async def add(self, *, issue_id: str, model: str, usd: float, input_tokens: int, output_tokens: int) -> None:
        """Record a call."""
        self.rows.append((issue_id, _today(), usd))


def _case(row: object) -> PastCase:
    data = row._mapping  # type: ignore[attr-defined]
    return PastCase(
        issue_id=data["issue_id"],
        fingerprint=data["fingerprint"],
        tokens=frozenset(json.loads(data["tokens"])),
        strategy=FixStrategy(data["strategy"]),
        affected_file=data["affected_file"],
        outcome=data["outcome"],
        root_cause=data["root_cause"] or "",
    )


class StoreCaseMemory:
    """Memory in the service's store (SQLite or PostgreSQL)."""

    def __init__(self, store: ServiceStore) -> None:
        self.store = store

    async def recall(self, *, fingerprint: str, limit: int = 500) -> list[PastCase]:
        """Same-fingerprint cases and the most recent ``limit`` others."""
        async with self.store.engine.connect() as conn:
            same = await conn.execute(select(cases).where(cases.c.fingerprint == fingerprint))
            recent = await conn.execute(
                select(cases)
                .where(cases.c.fingerprint != fingerprint, cases.c.outcome.is_not(None))
                .order_by(cases.c.updated_at.desc())
                .limit(limit)
            )
            return [_case(r) for r in [*same, *recent]]

    async def remember(self, case: PastCase, conn: AsyncConnection | None = None) -> None:
        """Upsert the case (its outcome is kept when already known)."""
        row = {
            "issue_id": case.issue_id,
            "fingerprint": case.fingerprint,
            "tokens": json.dumps(sorted(case.tokens)),
            "strategy": case.strategy.value,
            "affected_file": case.affected_file,
            "outcome": case.outcome,
            "root_cause": case.root_cause[:2000],
            "updated_at": time.time(),
        }
        stmt = self.store.upsert(
            cases, ["issue_id"], row, ["fingerprint", "tokens", "strategy", "affected_file", "root_cause", "updated_at"]
        )
        if conn is not None:
            await conn.execute(stmt)
            return
        async with self.store.transaction() as c:
            await c.execute(stmt)

    async def record_outcome(self, *, issue_id: str, outcome: str, conn: AsyncConnection | None = None) -> bool:
        """Set the outcome of a remembered issue; a failed fix also counts a setback (the issue gets a new diagnosis)."""
        if conn is None:
            async with self.store.transaction() as c:
                return await self.record_outcome(issue_id=issue_id, outcome=outcome, conn=c)
        stmt = update(cases).where(cases.c.issue_id == issue_id).values(outcome=outcome, updated_at=time.time())
        known = bool((await conn.execute(stmt)).rowcount)
        if outcome in SETBACK_OUTCOMES:
            count = await self.setbacks(issue_id=issue_id, conn=conn)
            row = {"issue_id": issue_id, "count": count + 1, "updated_at": time.time()}
            await conn.execute(self.store.upsert(setbacks, ["issue_id"], row, ["count", "updated_at"]))
        return known

    async def setbacks(self, *, issue_id: str, conn: AsyncConnection) -> int:
        """How many fixes of this issue failed after they were deployed."""
        count = (await conn.execute(select(setbacks.c.count).where(setbacks.c.issue_id == issue_id))).scalar()
        return int(count or 0)


class StoreSpendLedger:
    """Spend in the service's store, shared by every instance using that store."""

    def __init__(self, store: ServiceStore) -> None:
        self.store = store

    async def spent(self, *, issue_id: str) -> tuple[float, float]:
        """(this issue, today) in USD."""
        async with self.store.engine.connect() as conn:
            per_issue = (
                await conn.execute(select(func.coalesce(func.sum(spend.c.usd), 0.0)).where(spend.c.issue_id == issue_id))
            ).scalar_one()
            per_day = (
                await conn.execute(select(func.coalesce(func.sum(spend.c.usd), 0.0)).where(spend.c.day == _today()))
            ).scalar_one()
        return float(per_issue), float(per_day)

    async def add(self, *, issue_id: str, model: str, usd: float, input_tokens: int, output_tokens: int) -> None:
        """Record one call (its own transaction: money spent stays spent even if the diagnosis fails)."""
        async with self.store.transaction() as conn:
            await conn.execute(
                spend.insert().values(
                    issue_id=issue_id,
                    day=_today(),
                    model=model,
                    usd=usd,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    created_at=time.time(),
                )
            )
