"""Issue rows as the projector builds them: a new row from an event's brief, then its facts and status.

Rows are plain dicts of the ``agent_issues`` columns; the ones a transaction has read or written are
kept for the rest of it (:func:`issues_known_to`), so a batch reads each issue once.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionRecorded,
    ApprovalRequested,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueBrief,
    IssueDetected,
)

from ..actions.chain import clean
from ..db import JsonDoc
from ..issues.lifecycle import IssueStatus, next_status, status_for
from ..issues.models import Issue

__all__ = [
    "ISSUES",
    "ISSUE_COLUMNS",
    "ISSUE_KEYED",
    "UPDATED_COLUMNS",
    "KnownIssues",
    "apply_facts",
    "apply_status",
    "brief_of",
    "issues_known_to",
    "new_issue",
    "pg_values",
    "touches_issue",
]

ISSUES: Table = Issue.__table__  # type: ignore[assignment]
ISSUE_COLUMNS = tuple(c.name for c in ISSUES.columns)
UPDATED_COLUMNS = tuple(c for c in ISSUE_COLUMNS if c != "id")
ISSUE_KEYED = ("id", *UPDATED_COLUMNS)
_JSON_COLUMNS = frozenset(c.name for c in ISSUES.columns if isinstance(c.type, JsonDoc))


def pg_values(row: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    """A row's values in ``columns`` order as asyncpg takes them (``json`` columns as JSON text)."""
    return [_json_text(row[c]) if c in _JSON_COLUMNS else row[c] for c in columns]


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return "[]" if value == [] else json.dumps(value)  # most issues have no links


def brief_of(event: Envelope) -> IssueBrief | None:
    if isinstance(event, IssueDetected):
        return event.brief()
    brief = getattr(event, "issue", None)
    return brief if isinstance(brief, IssueBrief) else None


def new_issue(event: Envelope, brief: IssueBrief, status: IssueStatus) -> dict[str, Any]:
    at = event.occurred_at
    row: dict[str, Any] = dict.fromkeys(ISSUE_COLUMNS)
    row.update(
        id=event.issue_id,
        target=brief.target,
        service=brief.service,
        environment="production",
        title=brief.title[:500],
        message="",
        fingerprint=brief.fingerprint,
        severity=brief.severity.value,
        issue_type=brief.issue_type.value,
        status=status.value,
        source="",
        affected_users=brief.affected_users,
        occurrences=0,
        detected_at=at,
        status_changed_at=at,
        updated_at=at,
        run_id=event.correlation_id,
        commit_sha=brief.commit_sha,
        rollback_count=0,
        llm_cost_usd=0.0,
        links=[],
        false_positive=False,
    )
    return row


def apply_facts(row: dict[str, Any], event: Envelope) -> None:
    """Copy the facts an event carries onto the issue row (independent of status order)."""
    if isinstance(event, IssueDetected):
        newest = row["last_seen"] is None or event.last_seen >= row["last_seen"]
        if newest and event.deadline != row["deadline"]:
            # A new deadline (severity rise, regression) is a new clock: it may escalate and be missed again.
            row.update(sla_escalated_at=None, sla_missed_at=None)
        if newest:
            row.update(
                title=event.title[:500],
                message=clean(event.message),
                severity=event.severity.value,
                last_seen=event.last_seen,
                environment=event.environment,
                release=event.release,
                commit_sha=event.commit_sha or row["commit_sha"],
                deadline=event.deadline,
            )
        row["first_seen"] = event.first_seen if row["first_seen"] is None else min(row["first_seen"], event.first_seen)
        row.update(
            target=event.target,
            service=event.service,
            fingerprint=event.fingerprint,
            issue_type=event.issue_type.value,
            source=event.source,
            affected_users=max(row["affected_users"] or 0, event.affected_users),
            occurrences=max(row["occurrences"] or 0, event.frequency.total, event.frequency.count),
            links=[link.model_dump(mode="json") for link in event.links] or row["links"] or [],
        )
        if row["detected_at"] is None or event.occurred_at < row["detected_at"]:
            row["detected_at"] = event.occurred_at
    elif isinstance(event, DiagnosisReady):
        lines = event.affected_lines
        row.update(
            root_cause=clean(event.root_cause),
            affected_file=event.affected_file,
            affected_lines=f"{lines.first}-{lines.last}" if lines else None,
            confidence=event.confidence,
            fix_strategy=event.fix_strategy.value,
            llm_cost_usd=(row["llm_cost_usd"] or 0.0) + event.cost_usd,
        )
    elif isinstance(event, FixCommitted):
        row.update(
            fix_branch=event.branch,
            fix_commit=event.commit_sha,
            pr_url=event.pr_url,
            diff_hash=event.diff_hash,
            test_outcome=event.tests.outcome.value,
        )
    elif isinstance(event, DeploymentResult):
        row.update(deployment_stage=event.stage.value, deployment_outcome=event.outcome.value)
        if event.outcome is DeploymentOutcome.ROLLED_BACK:
            row["rollback_count"] = (row["rollback_count"] or 0) + 1
        if event.stage is DeploymentStage.PRODUCTION and event.outcome is DeploymentOutcome.PROMOTED:
            row["auto_deployed"] = event.approval_id is None
        if event.stage is DeploymentStage.PRODUCTION and event.outcome in (
            DeploymentOutcome.FAILED,
            DeploymentOutcome.ROLLED_BACK,
        ):
            row["auto_deployed"] = event.approval_id is None


def apply_status(row: dict[str, Any], event: Envelope) -> None:
    reported = status_for(event)
    if reported is None:
        return
    moved = next_status(
        current=IssueStatus(row["status"]),
        run_id=row["run_id"],
        changed_at=row["status_changed_at"],
        reported=reported,
        event_run=event.correlation_id,
        event_at=event.occurred_at,
    )
    if moved is None:
        return
    row.update(status=moved.status.value, run_id=moved.run_id, status_changed_at=moved.changed_at)
    if moved.status is IssueStatus.RESOLVED:
        row["resolved_at"] = moved.changed_at
    elif not moved.status.terminal:
        row["resolved_at"] = None


@dataclass(slots=True)
class KnownIssues:
    """Issue rows this transaction has read or written (None: known not to exist)."""

    rows: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    persisted: set[str] = field(default_factory=set)


# Per transaction: the runtime calls the projector once per event inside one batch transaction, and
# every projector transaction holds the audit lock, so rows read earlier in it are still current.
_known: weakref.WeakKeyDictionary[Any, KnownIssues] = weakref.WeakKeyDictionary()


def issues_known_to(conn: AsyncConnection) -> KnownIssues:
    transaction = conn.sync_connection.get_transaction() if conn.sync_connection is not None else None
    if transaction is None:
        return KnownIssues()
    known = _known.get(transaction)
    if known is None:
        known = _known[transaction] = KnownIssues()
    return known


def touches_issue(event: Envelope) -> bool:
    return isinstance(
        event, IssueDetected | DiagnosisReady | FixCommitted | DeploymentResult | ApprovalRequested | ActionRecorded
    )
