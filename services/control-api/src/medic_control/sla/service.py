"""Deadline checks: an open issue whose SLA deadline is near is escalated once; a passed one is recorded as missed.

The issue rows carry the deadline the watcher set from the configured SLA (projected from
IssueDetected). :func:`check_deadlines` runs in one transaction that holds the audit lock: it marks
the rows (``sla_escalated_at``, ``sla_missed_at``) and appends one audit row per escalation or miss,
so each is recorded exactly once however many control-api replicas run the check. :class:`DeadlineWatch`
is the periodic task around it: its clock is injectable, and it notifies after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ActionStatus, SeveritySla, new_event_id, utcnow
from medic_runtime import ServiceRuntime

from ..actions import service as audit
from ..config import service as config_service
from ..issues.lifecycle import IssueStatus
from ..issues.models import Issue
from ..notify import Notice, Notifier, slack_escape

__all__ = ["DeadlineWatch", "SlaAlert", "SlaState", "check_deadlines", "sla_state"]

log = logging.getLogger("medic.control.sla")


class SlaState(StrEnum):
    """Where an open issue stands against its deadline."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # within the escalation margin
    MISSED = "missed"


def sla_state(*, deadline: datetime, now: datetime, escalate_before: timedelta) -> SlaState:
    """The state of a deadline at ``now`` (pure)."""
    if now >= deadline:
        return SlaState.MISSED
    if now >= deadline - escalate_before:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


@dataclass(frozen=True, slots=True)
class SlaAlert:
    """An escalation or a miss just recorded."""

    issue_id: str
    title: str
    severity: str
    target: str
    status: str
    deadline: datetime
    state: SlaState

    def notice(self, *, now: datetime, dashboard_url: str | None) -> Notice:
        """The message people get."""
        if self.state is SlaState.MISSED:
            head = f"SLA missed: {self.severity} {self.issue_id} was due {self.deadline:%Y-%m-%d %H:%M} UTC"
        else:
            minutes = max(0, round((self.deadline - now).total_seconds() / 60))
            head = f"SLA at risk: {self.severity} {self.issue_id} is due in {minutes} min ({self.deadline:%H:%M} UTC)"
        title = " ".join(self.title.split())[:200]
        link = f"{dashboard_url.rstrip('/')}/dashboard/agent-control/issues/{self.issue_id}" if dashboard_url else None
        text = f"{head}\n{title}\nTarget: {self.target} · status: {self.status}" + (f"\n{link}" if link else "")
        slack = f"*{slack_escape(head)}*\n{slack_escape(title)}\nTarget: {slack_escape(self.target)} · status: {self.status}"
        if link:
            slack += f"\n<{link}|Open in Medic>"
        return Notice(subject=f"[Medic] {head}", text=text, slack_text=slack)


_OPEN = Issue.status != IssueStatus.RESOLVED.value


async def check_deadlines(conn: AsyncConnection, *, now: datetime, sla: SeveritySla) -> list[SlaAlert]:
    """Escalate deadlines about to pass and record passed ones, each once; the alerts to send."""
    await audit.lock(conn)
    margin = timedelta(minutes=sla.escalate_before_minutes)
    due = and_(
        Issue.deadline.is_not(None),
        Issue.deadline <= now + margin,
        _OPEN,
        Issue.false_positive.is_(False),
        or_(Issue.sla_missed_at.is_(None), Issue.sla_escalated_at.is_(None)),
    )
    rows = (await conn.execute(select(Issue).where(due).order_by(Issue.deadline, Issue.id))).all()
    alerts: list[SlaAlert] = []
    records: list[audit.AuditRecord] = []
    for issue in rows:
        assert issue.deadline is not None
        state = sla_state(deadline=issue.deadline, now=now, escalate_before=margin)
        if state is SlaState.MISSED and issue.sla_missed_at is None:
            values = {"sla_missed_at": now, "sla_escalated_at": issue.sla_escalated_at or now}
            action, status = "sla.missed", ActionStatus.FAILED.value
            summary = f"{issue.severity} deadline {issue.deadline:%Y-%m-%d %H:%M} UTC missed (status {issue.status})"
        elif state is SlaState.AT_RISK and issue.sla_escalated_at is None:
            values = {"sla_escalated_at": now}
            action, status = "sla.escalated", ActionStatus.STARTED.value
            left = max(0, round((issue.deadline - now).total_seconds() / 60))
            summary = f"{issue.severity} deadline in {left} min ({issue.deadline:%H:%M} UTC) and not fixed yet: escalated"
        else:
            continue
        await conn.execute(update(Issue).where(Issue.id == issue.id).values(**values))
        records.append(
            audit.AuditRecord(
                event_id=new_event_id(),
                event_type="sla",
                issue_id=issue.id,
                occurred_at=now,
                service="control-api",
                actor="control-api",
                action=action,
                status=status,
                summary=summary,
                details={"severity": issue.severity, "deadline": issue.deadline.isoformat(), "issue_status": issue.status},
            )
        )
        alerts.append(
            SlaAlert(
                issue_id=issue.id,
                title=issue.title,
                severity=issue.severity,
                target=issue.target,
                status=issue.status,
                deadline=issue.deadline,
                state=state,
            )
        )
    if records:
        await audit.append(conn, records)
    return alerts


@dataclass(slots=True)
class DeadlineWatch:
    """The periodic deadline check of control-api, with an injectable clock and channels."""

    runtime: ServiceRuntime
    notifier: Notifier
    clock: Callable[[], datetime] = utcnow
    dashboard_url: str | None = None

    async def run_once(self) -> list[SlaAlert]:
        """Check every open deadline now; notify about what was escalated or missed."""
        now = self.clock()
        async with self.runtime.store.transaction() as conn:
            config = (await config_service.current_config(conn)).config
            alerts = await check_deadlines(conn, now=now, sla=config.sla)
        for alert in alerts:
            await self.notifier.deliver(alert.notice(now=now, dashboard_url=self.dashboard_url))
        if alerts:
            log.info("SLA: %d escalation(s)/miss(es) recorded", len(alerts))
        return alerts
