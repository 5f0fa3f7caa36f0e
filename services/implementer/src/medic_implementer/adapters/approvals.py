"""Fix approvals in the service's store: a tested diff waiting for a human, found again after a restart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import DiagnosisReady, FixStrategy, TestReport
from medic_runtime import ServiceStore

from ..domain.outcome import ApprovedFix, FixOutcome
from .store import fix_approvals

__all__ = ["FixApprovals"]


@dataclass(frozen=True, slots=True)
class FixApprovals:
    """Reads and writes the ``fix_approvals`` table (one row per approval id)."""

    store: ServiceStore

    async def add(
        self,
        *,
        approval_id: str,
        diagnosis: DiagnosisReady,
        attempt: int,
        outcome: FixOutcome,
        test_command: str,
        expires_at: float,
    ) -> None:
        """Keep a pending approval for the diff of ``outcome`` (a redelivered request keeps the first row)."""
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
            "tests": (outcome.tests or TestReport(command=test_command, outcome="not_run")).model_dump_json(),  # type: ignore[arg-type]
            "regression_test": outcome.regression_test,
            "status": "pending",
            "expires_at": expires_at,
            "decided_by": None,
            "created_at": time.time(),
            "decided_at": None,
        }
        async with self.store.transaction() as conn:
            await conn.execute(self.store.insert_ignore(fix_approvals, ["approval_id"]).values(**row))

    async def approved(self, approval_id: Any) -> ApprovedFix | None:
        """The fix behind ``approval_id`` when a human approved it; None otherwise."""
        if not approval_id:
            return None
        async with self.store.engine.connect() as conn:
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

    async def get(self, conn: AsyncConnection, approval_id: str) -> Any:
        """The row of ``approval_id``, or None."""
        return (await conn.execute(select(fix_approvals).where(fix_approvals.c.approval_id == approval_id))).first()

    async def expire(self, conn: AsyncConnection, *, now: float) -> list[tuple[str, str]]:
        """Mark pending approvals past their expiry as expired: their (approval id, issue id)."""
        rows = (
            await conn.execute(
                select(fix_approvals.c.approval_id, fix_approvals.c.issue_id).where(
                    fix_approvals.c.status == "pending", fix_approvals.c.expires_at < now
                )
            )
        ).all()
        for approval_id, _issue_id in rows:
            await conn.execute(
                update(fix_approvals)
                .where(fix_approvals.c.approval_id == approval_id, fix_approvals.c.status == "pending")
                .values(status="expired", decided_at=now)
            )
        return [(approval_id, issue_id) for approval_id, issue_id in rows]

    async def decide(self, conn: AsyncConnection, approval_id: str, *, status: str, actor: str) -> None:
        """Record a decision on ``approval_id``: its new status, who decided, and when."""
        await conn.execute(
            update(fix_approvals)
            .where(fix_approvals.c.approval_id == approval_id)
            .values(status=status, decided_by=actor, decided_at=time.time())
        )
