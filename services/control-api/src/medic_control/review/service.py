"""The weekly review: the week's figures beside the seed's success targets, and the week's P4 issues.

Targets (seed design): 80%+ of P2–P4 issues fixed automatically, < 5 min median time to fix, zero
failed auto-deployments, 95%+ fix success rate, < 1% false-positive detections. Issues a human
marked as false positives count towards the false-positive rate and are left out of the
fixed-automatically share (there was nothing to fix).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..actions.models import Action
from ..issues.models import Issue
from ..metrics import service as metrics
from .schemas import ReviewIssue, ReviewMetric, WeeklyReview

__all__ = ["TARGETS", "weekly"]

WEEK = timedelta(days=7)

#: The seed's success targets: figure name -> (target in words, test of the value).
TARGETS: dict[str, tuple[str, Any]] = {
    "fixed_automatically": ("80%+", lambda v: v >= 0.80),
    "median_time_to_fix_s": ("< 5 min", lambda v: v < 300),
    "failed_auto_deployments": ("0", lambda v: v == 0),
    "fix_success_rate": ("95%+", lambda v: v >= 0.95),
    "false_positive_rate": ("< 1%", lambda v: v < 0.01),
}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f} min"


def _metric(name: str, label: str, value: float | None, display: str) -> ReviewMetric:
    target, test = TARGETS.get(name, (None, None))
    met = bool(test(value)) if test is not None and value is not None else None
    return ReviewMetric(name=name, label=label, value=value, display=display, target=target, met=met)


def _failed_auto_deployments(rows: Sequence[Any]) -> int:
    """Production deployments that failed or were rolled back and had gone out without a human's approval."""
    failed = 0
    for row in rows:
        outcome = row.action.rsplit(".", 1)[-1]
        event = (row.details or {}).get("event") or {}
        if outcome in ("failed", "rolled_back") and not event.get("approval_id"):
            failed += 1
    return failed


async def weekly(conn: AsyncConnection, *, until: datetime) -> WeeklyReview:
    """The review of the seven days before ``until``."""
    since = until - WEEK
    summary = await metrics.summary(conn, days=7, now=until)
    in_week = and_(Issue.detected_at >= since, Issue.detected_at < until)
    detected_rows = (
        await conn.execute(select(Issue.severity, Issue.status, Issue.auto_deployed, Issue.false_positive).where(in_week))
    ).all()
    detected = len(detected_rows)
    false_positives = sum(1 for r in detected_rows if r.false_positive)
    low = [r for r in detected_rows if r.severity in ("P2", "P3", "P4") and not r.false_positive]
    auto_fixed = sum(1 for r in low if r.status == "resolved" and r.auto_deployed)
    deploy_rows = (
        await conn.execute(
            select(Action.action, Action.details).where(
                Action.occurred_at >= since, Action.occurred_at < until, Action.action.like("deployment.production.%")
            )
        )
    ).all()
    missed = (
        await conn.execute(
            select(func.count()).where(Action.action == "sla.missed", Action.occurred_at >= since, Action.occurred_at < until)
        )
    ).scalar_one()
    p4_rows = (
        await conn.execute(
            select(Issue)
            .where(
                Issue.severity == "P4",
                or_(in_week, and_(Issue.last_seen >= since, Issue.last_seen < until)),
            )
            .order_by(Issue.occurrences.desc(), Issue.detected_at.desc())
            .limit(200)
        )
    ).mappings()
    fixed_share = auto_fixed / len(low) if low else None
    fp_rate = false_positives / detected if detected else None
    failed_auto = _failed_auto_deployments(deploy_rows)
    figures = [
        _metric("issues_detected", "Issues detected", float(detected), str(detected)),
        _metric(
            "fixed_automatically",
            "P2–P4 issues fixed automatically",
            fixed_share,
            f"{_percent(fixed_share)} ({auto_fixed} of {len(low)})",
        ),
        _metric(
            "median_time_to_fix_s", "Median time to fix", summary.median_time_to_fix_s, _minutes(summary.median_time_to_fix_s)
        ),
        _metric("failed_auto_deployments", "Failed auto-deployments", float(failed_auto), str(failed_auto)),
        _metric(
            "fix_success_rate",
            "Fix success rate (production deploys promoted)",
            summary.success_rate,
            _percent(summary.success_rate),
        ),
        _metric("rollbacks", "Rollbacks", float(summary.rollbacks), str(summary.rollbacks)),
        _metric(
            "false_positive_rate",
            "False-positive detections (marked by humans)",
            fp_rate,
            f"{'–' if fp_rate is None else f'{100 * fp_rate:.1f}%'} ({false_positives} of {detected})",
        ),
        _metric("sla_missed", "SLA deadlines missed", float(missed), str(missed)),
        _metric("llm_spend_usd", "LLM spend", summary.llm_spend_usd, f"${summary.llm_spend_usd:.2f}"),
    ]
    judged = [m for m in figures if m.met is not None]
    return WeeklyReview(
        since=since,
        until=until,
        metrics=figures,
        targets_met=sum(1 for m in judged if m.met),
        targets_judged=len(judged),
        p4_issues=[ReviewIssue.model_validate(dict(row)) for row in p4_rows],
    )
