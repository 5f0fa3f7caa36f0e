"""Per-strategy outcomes: projected from the bus and from feedback, and summarised over time.

Where each outcome comes from:

- FixCommitted: a fix was committed with its strategy (``committed``); the issue's later outcomes
  are attributed to the strategy of its latest committed fix;
- DeploymentResult: promoted to production (``promoted``), rolled back (``rolled_back``), the fixed
  error back after promotion (``reopened``);
- the implementer's failure analyses (``implementer.fix_failure_analysed``): a fix rejected by a
  human (``rejected``) or whose tests failed (``tests_failed``), each naming its strategy;
- a human's rating through ``POST /issues/{id}/feedback`` (``rated``), also broadcast as a
  ``feedback`` ControlCommand so the implementer adjusts the strategy's confidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionRecorded,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    Envelope,
    FixCommitted,
    FixStrategy,
    utcnow,
)
from medic_runtime import Transaction

from .. import postgres_bulk
from ..auth.schemas import Principal
from ..config.service import publish_command
from .models import StrategyOutcomeRow
from .schemas import StrategyOutcomeKind, StrategyPeriod, StrategyReport, StrategyStats

__all__ = ["committed_strategy", "feedback_given", "outcome_of", "project", "report"]

FAILURE_ANALYSED = "implementer.fix_failure_analysed"
_FAILURES = frozenset(
    {
        StrategyOutcomeKind.ROLLED_BACK,
        StrategyOutcomeKind.REOPENED,
        StrategyOutcomeKind.REJECTED,
        StrategyOutcomeKind.TESTS_FAILED,
    }
)
_FAILURE_VALUES = frozenset(k.value for k in _FAILURES)
_outcomes: Table = StrategyOutcomeRow.__table__  # type: ignore[assignment]
_OUTCOME_COLUMNS = tuple(c.name for c in _outcomes.columns)
_FROM_ANALYSIS = {"rejected": StrategyOutcomeKind.REJECTED, "tests_failed": StrategyOutcomeKind.TESTS_FAILED}


def outcome_of(event: Envelope) -> tuple[StrategyOutcomeKind, str | None] | None:
    """The strategy outcome an event reports (strategy None: the issue's committed fix), or None."""
    if isinstance(event, FixCommitted):
        return StrategyOutcomeKind.COMMITTED, event.strategy.value
    if isinstance(event, DeploymentResult):
        if event.outcome is DeploymentOutcome.ROLLED_BACK:
            return StrategyOutcomeKind.ROLLED_BACK, None
        if event.outcome is DeploymentOutcome.REOPENED:
            return StrategyOutcomeKind.REOPENED, None
        if event.outcome is DeploymentOutcome.PROMOTED and event.stage is DeploymentStage.PRODUCTION:
            return StrategyOutcomeKind.PROMOTED, None
        return None
    if isinstance(event, ActionRecorded) and event.action == FAILURE_ANALYSED:
        kind = _FROM_ANALYSIS.get(str(event.details.get("signal")))
        strategy = event.details.get("strategy")
        if kind is not None and isinstance(strategy, str) and strategy in FixStrategy._value2member_map_:
            return kind, strategy
    return None


async def committed_strategy(conn: AsyncConnection, *, issue_id: str) -> str | None:
    """The strategy of the latest fix committed for an issue, if any."""
    row = (
        await conn.execute(
            select(StrategyOutcomeRow.strategy)
            .where(StrategyOutcomeRow.issue_id == issue_id, StrategyOutcomeRow.outcome == StrategyOutcomeKind.COMMITTED.value)
            .order_by(StrategyOutcomeRow.occurred_at.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else str(row[0])


async def committed_strategies(conn: AsyncConnection, *, issue_ids: Iterable[str]) -> dict[str, str]:
    """:func:`committed_strategy` of several issues in one query (issues without a committed fix are left out)."""
    ids = sorted(set(issue_ids))
    if not ids:
        return {}
    pg = await postgres_bulk.driver(conn)
    if pg is not None:  # one array parameter, not an expanded IN list of every id
        sql = (
            f"SELECT issue_id, strategy FROM {postgres_bulk.table_name(conn, _outcomes)} "  # noqa: S608 - our names
            "WHERE issue_id = ANY($1::text[]) AND outcome = $2 ORDER BY occurred_at"
        )
        found: list[Any] = list(await pg.fetch(sql, ids, StrategyOutcomeKind.COMMITTED.value))
    else:
        found = list(
            (
                await conn.execute(
                    select(StrategyOutcomeRow.issue_id, StrategyOutcomeRow.strategy)
                    .where(
                        StrategyOutcomeRow.issue_id.in_(ids), StrategyOutcomeRow.outcome == StrategyOutcomeKind.COMMITTED.value
                    )
                    .order_by(StrategyOutcomeRow.occurred_at)
                )
            ).all()
        )
    return {str(issue_id): str(strategy) for issue_id, strategy in found}  # later rows win: the latest commit


async def project(conn: AsyncConnection, events: Sequence[tuple[str, Envelope]]) -> int:
    """Write the strategy outcomes of newly projected events (``(key, event)``: each key is new); how many."""
    found = [(key, event, outcome) for key, event in events if event.issue_id and (outcome := outcome_of(event)) is not None]
    # One lookup for every issue whose outcome names no strategy (rollbacks, promotions), not one per event.
    stored = await committed_strategies(
        conn, issue_ids=(e.issue_id for _, e, (_, strategy) in found if strategy is None and e.issue_id)
    )
    rows: list[dict[str, Any]] = []
    latest: dict[str, str] = {}  # issue → strategy committed earlier in this batch
    for key, event, (kind, named) in found:
        assert event.issue_id is not None
        strategy = named or latest.get(event.issue_id) or stored.get(event.issue_id)
        if strategy is None:
            continue  # a deployment of something no fix strategy made
        if kind is StrategyOutcomeKind.COMMITTED:
            latest[event.issue_id] = strategy
        rows.append(
            {
                "key": key,
                "issue_id": event.issue_id,
                "strategy": strategy,
                "outcome": kind.value,
                "rating": None,
                "occurred_at": event.occurred_at,
            }
        )
    if rows:
        pg = await postgres_bulk.driver(conn)
        if pg is not None:
            await postgres_bulk.copy_rows(
                conn, pg, _outcomes, columns=_OUTCOME_COLUMNS, rows=[[r[c] for c in _OUTCOME_COLUMNS] for r in rows]
            )
        else:
            await conn.execute(insert(StrategyOutcomeRow), rows)
    return len(rows)


async def feedback_given(
    tx: Transaction, *, issue_id: str, feedback_id: int, rating: int, comment: str, principal: Principal
) -> str | None:
    """Count a rating against the strategy of the issue's fix and broadcast it as a ``feedback`` command.

    The strategy rated, or None when no fix was committed for the issue (the command still goes out).
    """
    strategy = await committed_strategy(tx.conn, issue_id=issue_id)
    now = utcnow()
    if strategy is not None:
        await tx.conn.execute(
            insert(StrategyOutcomeRow).values(
                key=f"feedback:{feedback_id}",
                issue_id=issue_id,
                strategy=strategy,
                outcome=StrategyOutcomeKind.RATED.value,
                rating=rating,
                occurred_at=now,
            )
        )
    command = ControlCommand(
        producer=tx.producer,
        issue_id=issue_id,
        command=CommandName.FEEDBACK,
        actor=principal.identity,
        reason=f"rated {rating}/5",
        rating=rating,
        comment=comment[:2000] or None,
        fix_strategy=FixStrategy(strategy) if strategy else None,
    )
    await publish_command(
        tx,
        command=command,
        principal=principal,
        summary=f"feedback on {issue_id}: {rating}/5" + (f" for {strategy}" if strategy else ""),
        details={"rating": rating, "fix_strategy": strategy},
    )
    return strategy


def _confidence(rows: Sequence[Any]) -> float:
    good = bad = 0.0
    for row in rows:
        kind = row.outcome
        if kind == StrategyOutcomeKind.PROMOTED.value:
            good += 1
        elif kind == StrategyOutcomeKind.TESTS_FAILED.value:
            bad += 0.5  # caught before any harm: weaker evidence than a rollback (as the implementer weighs it)
        elif kind in _FAILURE_VALUES:
            bad += 1
        elif kind == StrategyOutcomeKind.RATED.value and row.rating is not None:
            share = (min(max(row.rating, 1), 5) - 1) / 4
            good, bad = good + share, bad + 1 - share
    return (1 + good) / (2 + good + bad)


def _rate(succeeded: int, failed: int) -> float | None:
    return round(succeeded / (succeeded + failed), 4) if succeeded + failed else None


async def report(conn: AsyncConnection, *, days: int = 28, bucket_days: int = 7, now: datetime | None = None) -> StrategyReport:
    """Every strategy's outcomes over the last ``days`` days, with its success rate per ``bucket_days`` period."""
    until = now or utcnow()
    since = until - timedelta(days=days)
    rows = (
        await conn.execute(
            select(StrategyOutcomeRow)
            .where(StrategyOutcomeRow.occurred_at >= since, StrategyOutcomeRow.occurred_at <= until)
            .order_by(StrategyOutcomeRow.occurred_at)
        )
    ).all()
    first_day = since.date()
    n_periods = max(1, math.ceil(days / bucket_days))
    by_strategy: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_strategy[row.strategy].append(row)
    stats = []
    for strategy, found in by_strategy.items():
        counts = {kind: sum(1 for r in found if r.outcome == kind.value) for kind in StrategyOutcomeKind}
        failures = sum(counts[k] for k in _FAILURES)
        ratings = [r.rating for r in found if r.outcome == StrategyOutcomeKind.RATED.value and r.rating is not None]
        fixes, succeeded, failed = [0] * n_periods, [0] * n_periods, [0] * n_periods
        for r in found:
            index = min(n_periods - 1, max(0, (r.occurred_at.date() - first_day).days // bucket_days))
            if r.outcome == StrategyOutcomeKind.COMMITTED.value:
                fixes[index] += 1
            elif r.outcome == StrategyOutcomeKind.PROMOTED.value:
                succeeded[index] += 1
            elif r.outcome in _FAILURE_VALUES:
                failed[index] += 1
        stats.append(
            StrategyStats(
                strategy=strategy,
                fixes=counts[StrategyOutcomeKind.COMMITTED],
                promoted=counts[StrategyOutcomeKind.PROMOTED],
                rolled_back=counts[StrategyOutcomeKind.ROLLED_BACK],
                reopened=counts[StrategyOutcomeKind.REOPENED],
                rejected=counts[StrategyOutcomeKind.REJECTED],
                tests_failed=counts[StrategyOutcomeKind.TESTS_FAILED],
                ratings=len(ratings),
                mean_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
                success_rate=_rate(counts[StrategyOutcomeKind.PROMOTED], failures),
                confidence=round(_confidence(found), 4),
                last_outcome_at=found[-1].occurred_at,
                periods=[
                    StrategyPeriod(
                        start=first_day + timedelta(days=i * bucket_days),
                        fixes=fixes[i],
                        succeeded=succeeded[i],
                        failed=failed[i],
                        success_rate=_rate(succeeded[i], failed[i]),
                    )
                    for i in range(n_periods)
                ],
            )
        )
    stats.sort(key=lambda s: (-s.fixes, s.strategy))
    return StrategyReport(since=since, until=until, bucket_days=bucket_days, strategies=stats)
