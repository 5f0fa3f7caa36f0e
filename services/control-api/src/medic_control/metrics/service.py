"""The metrics summary: issues, fixes, time to fix, success rate, rollbacks and LLM spend."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import utcnow

from ..actions.models import Action
from ..issues.models import Issue
from .schemas import DayPoint, MetricsSummary

__all__ = ["summary"]

_SEVERITIES = ("P0", "P1", "P2", "P3", "P4")


async def summary(conn: AsyncConnection, *, days: int = 7, now: datetime | None = None) -> MetricsSummary:
    """Counts and daily series over the last ``days`` days (before ``now`` when given: a past window)."""
    until = now or utcnow()
    since = until - timedelta(days=days)
    # Only a given `now` bounds the window above: "until now" also keeps events stamped a little ahead (clock skew).
    far = until if now is not None else datetime.max.replace(tzinfo=until.tzinfo)
    detected_rows = (
        await conn.execute(
            select(Issue.detected_at, Issue.severity, Issue.status).where(Issue.detected_at >= since, Issue.detected_at < far)
        )
    ).all()
    resolved_rows = (
        await conn.execute(
            select(Issue.detected_at, Issue.resolved_at, Issue.auto_deployed).where(
                and_(Issue.resolved_at.is_not(None), Issue.resolved_at >= since, Issue.resolved_at < far)
            )
        )
    ).all()
    action_rows = (
        await conn.execute(
            select(Action.occurred_at, Action.action, Action.details).where(
                and_(
                    Action.occurred_at >= since,
                    Action.occurred_at < far,
                    or_(Action.action.like("deployment.%"), Action.action == "diagnosis.ready"),
                )
            )
        )
    ).all()

    day_list = [(since + timedelta(days=i + 1)).date() for i in range(days)]
    detected_by_day: dict[date, Counter[str]] = defaultdict(Counter)
    for row in detected_rows:
        detected_by_day[row.detected_at.date()][row.severity] += 1
    fix_times: dict[date, list[float]] = defaultdict(list)
    all_fix_times: list[float] = []
    auto = 0
    for fixed in resolved_rows:
        resolved_at = fixed.resolved_at
        assert resolved_at is not None
        seconds = max(0.0, (resolved_at - fixed.detected_at).total_seconds())
        fix_times[resolved_at.date()].append(seconds)
        all_fix_times.append(seconds)
        auto += 1 if fixed.auto_deployed else 0
    deployments: Counter[date] = Counter()
    good: Counter[date] = Counter()
    rollbacks: Counter[date] = Counter()
    spend = 0.0
    for row in action_rows:
        day = row.occurred_at.date()
        if row.action == "diagnosis.ready":
            spend += float(((row.details or {}).get("event") or {}).get("cost_usd") or 0.0)
            continue
        outcome = row.action.rsplit(".", 1)[-1]
        if outcome == "rolled_back":
            rollbacks[day] += 1
        if row.action.startswith("deployment.production.") and outcome in ("promoted", "verified", "failed", "rolled_back"):
            deployments[day] += 1
            good[day] += outcome in ("promoted", "verified")
    judged = sum(deployments.values())
    per_day = [
        DayPoint(
            day=d,
            detected=sum(detected_by_day[d].values()),
            by_severity={s: detected_by_day[d][s] for s in _SEVERITIES},
            resolved=len(fix_times[d]),
            mean_time_to_fix_s=statistics.fmean(fix_times[d]) if fix_times[d] else None,
            deployments=deployments[d],
            successful_deployments=good[d],
            rollbacks=rollbacks[d],
        )
        for d in day_list
    ]
    severity_total: Counter[str] = Counter(r.severity for r in detected_rows)
    return MetricsSummary(
        since=since,
        until=until,
        detected=len(detected_rows),
        resolved=len(all_fix_times),
        fixed_automatically=auto,
        mean_time_to_fix_s=statistics.fmean(all_fix_times) if all_fix_times else None,
        median_time_to_fix_s=statistics.median(all_fix_times) if all_fix_times else None,
        success_rate=sum(good.values()) / judged if judged else None,
        rollbacks=sum(rollbacks.values()),
        llm_spend_usd=round(spend, 6),
        by_severity={s: severity_total[s] for s in _SEVERITIES},
        by_status=dict(Counter(r.status for r in detected_rows)),
        per_day=per_day,
    )
