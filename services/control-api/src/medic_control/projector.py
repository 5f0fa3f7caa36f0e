"""The projector: every event on the bus becomes audit rows, issue state, approvals and dead letters.

control-api is the single writer of its store. :func:`project` takes a batch of events (with the
id of the event each one replays, if any) and writes them in the caller's transaction:

- every event is appended to the hash-chained audit trail, keyed by its event id (a replay is
  keyed by the id of the event it replays), so a redelivery or a replay adds nothing;
- issue events create or move the issue (``issues.lifecycle``), never backwards within a run;
- ApprovalRequested opens an approval; DeadLetter is kept for ``GET /dlq``;
- fixes, deployments and failure analyses become per-strategy outcomes (``strategies``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    CommandName,
    ControlCommand,
    DeadLetter,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueBrief,
    IssueDetected,
    utcnow,
)

from . import bulk
from .actions import service as audit
from .actions.chain import clean
from .approvals.models import Approval
from .db import JsonDoc
from .dlq.models import DeadLetterRow
from .issues.lifecycle import IssueStatus, next_status, status_for
from .issues.models import Issue
from .strategies import service as strategies

__all__ = ["Delivered", "ProjectionResult", "audit_record", "project"]

_issues: Table = Issue.__table__  # type: ignore[assignment]
_ISSUE_COLUMNS = tuple(c.name for c in _issues.columns)
_UPDATED_COLUMNS = tuple(c for c in _ISSUE_COLUMNS if c != "id")
_ISSUE_KEYED = ("id", *_UPDATED_COLUMNS)
_JSON_COLUMNS = frozenset(c.name for c in _issues.columns if isinstance(c.type, JsonDoc))


def _pg_values(row: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    """A row's values in ``columns`` order as asyncpg takes them (``json`` columns as JSON text)."""
    return [_json_text(row[c]) if c in _JSON_COLUMNS else row[c] for c in columns]


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return "[]" if value == [] else json.dumps(value)  # most issues have no links


@dataclass(frozen=True, slots=True)
class Delivered:
    """An event to project and, when it is a replay, the id of the event it replays."""

    event: Envelope
    replay_of: str | None = None

    @property
    def key(self) -> str:
        """The id the projection is keyed by: the original event's."""
        return self.replay_of or self.event.event_id


@dataclass(frozen=True, slots=True)
class ProjectionResult:
    """What a batch changed."""

    appended: int
    duplicates: int
    issues_created: int
    issues_updated: int


def _deploy_status(outcome: DeploymentOutcome) -> str:
    if outcome in (DeploymentOutcome.FAILED, DeploymentOutcome.ROLLED_BACK):
        return ActionStatus.FAILED.value
    if outcome is DeploymentOutcome.BLOCKED:
        return ActionStatus.REFUSED.value
    return ActionStatus.SUCCEEDED.value


def audit_record(event: Envelope, key: str) -> audit.AuditRecord:
    """The audit entry an event becomes: what happened, who did it, why, and its full payload."""
    actor = event.producer.service
    reasoning: str | None = None
    status = ActionStatus.SUCCEEDED.value
    payload = event.model_dump(mode="json", exclude={"producer", "event_type", "schema_version", "event_id", "issue_id"})
    details: dict[str, Any] = {"event": payload}
    if isinstance(event, ActionRecorded):
        action, status, summary = event.action, event.status.value, event.summary
        reasoning, details = event.reasoning, dict(event.details)
    elif isinstance(event, IssueDetected):
        action = "issue.detected" if event.reason.value == "new" else f"issue.{event.reason.value}"
        summary = f"{event.severity.value} {event.issue_type.value}: {event.title}"
    elif isinstance(event, DiagnosisReady):
        action = "diagnosis.ready"
        where = f" in {event.affected_file}" if event.affected_file else ""
        summary = f"diagnosed{where} ({event.fix_strategy.value}, confidence {event.confidence:.2f})"
        reasoning = event.root_cause
    elif isinstance(event, FixCommitted):
        action = "fix.committed"
        summary = f"fix {event.commit_sha[:10]} on {event.branch}: tests {event.tests.outcome.value}"
        reasoning = f"strategy {event.strategy.value}"
    elif isinstance(event, DeploymentResult):
        action = f"deployment.{event.stage.value}.{event.outcome.value}"
        status = _deploy_status(event.outcome)
        summary = f"{event.stage.value} {event.outcome.value} ({event.commit_sha[:10]})"
        reasoning = event.reason or None
    elif isinstance(event, ApprovalRequested):
        action = f"approval.requested.{event.kind.value}"
        actor = event.requested_by
        summary = f"approval {event.approval_id} requested: {event.summary or event.reason}"
        reasoning = event.reason
    elif isinstance(event, ControlCommand):
        action = f"control.{event.command.value}"
        actor = event.actor
        summary = f"{event.command.value} by {event.actor}" + (f": {event.reason}" if event.reason else "")
        reasoning = event.reason or None
    elif isinstance(event, DeadLetter):
        action = "dlq.dead_letter"
        status = ActionStatus.FAILED.value
        summary = f"dead letter from {event.original_topic}[{event.partition}]@{event.offset}: {event.error_type}"
        reasoning = event.error
    else:  # pragma: no cover - every event type is handled above
        action, summary = event.event_type, event.event_type
    return audit.AuditRecord(
        event_id=key,
        event_type=event.event_type,
        issue_id=event.issue_id,
        occurred_at=event.occurred_at,
        service=event.producer.service,
        actor=actor,
        action=action,
        status=status,
        summary=summary[:2000],
        reasoning=reasoning,
        details=details,
    )


def _brief(event: Envelope) -> IssueBrief | None:
    if isinstance(event, IssueDetected):
        return event.brief()
    brief = getattr(event, "issue", None)
    return brief if isinstance(brief, IssueBrief) else None


def _new_issue(event: Envelope, brief: IssueBrief, status: IssueStatus) -> dict[str, Any]:
    at = event.occurred_at
    row: dict[str, Any] = dict.fromkeys(_ISSUE_COLUMNS)
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


def _apply_facts(row: dict[str, Any], event: Envelope) -> None:
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


def _apply_status(row: dict[str, Any], event: Envelope) -> None:
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


async def project(conn: AsyncConnection, batch: Sequence[Delivered]) -> ProjectionResult:
    """Project a batch of events in ``conn``'s transaction (idempotent on each event's key)."""
    wanted = [d for d in batch if not (isinstance(d.event, ControlCommand) and d.event.command is CommandName.STATE_SNAPSHOT)]
    records = [audit_record(d.event, d.key) for d in wanted]
    appended = await audit.append(conn, records)
    first: dict[str, Delivered] = {}
    for d in wanted:
        if d.key in appended:
            first.setdefault(d.key, d)  # one projection per key, even within a batch
    fresh = list(first.values())
    await strategies.project(conn, [(d.key, d.event) for d in fresh])

    known = _issues_known_to(conn)
    wanted_ids = sorted({d.event.issue_id for d in fresh if d.event.issue_id and _touches_issue(d.event)} - set(known.rows))
    pg = await bulk.driver(conn)
    if wanted_ids:
        if pg is not None:
            found = await bulk.select_by_keys(conn, pg, _issues, columns=_ISSUE_COLUMNS, key="id", keys=wanted_ids)
        else:
            found = [dict(r) for r in (await conn.execute(select(_issues).where(_issues.c.id.in_(wanted_ids)))).mappings()]
        for r in found:
            known.rows[r["id"]] = r
            known.persisted.add(r["id"])
        for issue_id in wanted_ids:
            known.rows.setdefault(issue_id, None)
    rows = known.rows
    changed: set[str] = set()
    now = utcnow()
    superseded: list[audit.AuditRecord] = []
    for d in fresh:
        event = d.event
        if isinstance(event, ApprovalRequested):
            superseded += await _open_approval(conn, event, now)
        elif isinstance(event, DeadLetter):
            await _keep_dead_letter(conn, event, d.key, now)
        if not event.issue_id or not _touches_issue(event):
            continue
        row = rows.get(event.issue_id)
        if row is None:
            brief = _brief(event)
            reported = status_for(event)
            if brief is None or reported is None:
                continue  # nothing to build an issue from (e.g. an action about an unknown issue)
            row = _new_issue(event, brief, IssueStatus.DETECTED if reported is IssueStatus.REOPENED else reported)
            rows[event.issue_id] = row
            changed.add(event.issue_id)
        before = dict(row)
        _apply_status(row, event)
        _apply_facts(row, event)
        if row != before:  # most actions only add to the timeline: no issue write for them
            row["updated_at"] = now
            changed.add(event.issue_id)
    written = {i: row for i in sorted(changed) if (row := rows.get(i)) is not None}
    created = [row for i, row in written.items() if i not in known.persisted]
    updated = [row for i, row in written.items() if i in known.persisted]
    if created and pg is not None:
        await bulk.copy_rows(conn, pg, _issues, columns=_ISSUE_COLUMNS, rows=[_pg_values(row, _ISSUE_COLUMNS) for row in created])
    elif created:
        await conn.execute(insert(_issues), created)
    known.persisted.update(r["id"] for r in created)
    if updated and pg is not None:
        await bulk.update_rows(
            conn, pg, _issues, key="id", columns=_UPDATED_COLUMNS, rows=[_pg_values(row, _ISSUE_KEYED) for row in updated]
        )
    elif updated:
        stmt = update(_issues).where(_issues.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in _UPDATED_COLUMNS})
        await conn.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in updated])
    if superseded:
        await audit.append(conn, superseded)
    return ProjectionResult(len(appended), len(batch) - len(appended), len(created), len(updated))


@dataclass(slots=True)
class _KnownIssues:
    """Issue rows this transaction has read or written (None: known not to exist)."""

    rows: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    persisted: set[str] = field(default_factory=set)


# Per transaction: the runtime calls the projector once per event inside one batch transaction, and
# every projector transaction holds the audit lock, so rows read earlier in it are still current.
_known: weakref.WeakKeyDictionary[Any, _KnownIssues] = weakref.WeakKeyDictionary()


def _issues_known_to(conn: AsyncConnection) -> _KnownIssues:
    transaction = conn.sync_connection.get_transaction() if conn.sync_connection is not None else None
    if transaction is None:
        return _KnownIssues()
    known = _known.get(transaction)
    if known is None:
        known = _known[transaction] = _KnownIssues()
    return known


_ISSUE_EVENTS = (IssueDetected, DiagnosisReady, FixCommitted, DeploymentResult, ApprovalRequested, ActionRecorded)


def _touches_issue(event: Envelope) -> bool:
    return isinstance(
        event, IssueDetected | DiagnosisReady | FixCommitted | DeploymentResult | ApprovalRequested | ActionRecorded
    )


async def _open_approval(conn: AsyncConnection, event: ApprovalRequested, now: datetime) -> list[audit.AuditRecord]:
    """Open (or re-open with a new diff) an approval; older pending ones for the same issue and step close as superseded.

    A replayed issue asks again under a new approval id: without this the old request would stay
    pending beside the new one, and stay pending after the new one is decided. Returns the audit
    entries of the approvals it superseded (keyed by this event, so a re-projection appends none).
    """
    current = (await conn.execute(select(Approval.status, Approval.diff_hash).where(Approval.id == event.approval_id))).first()
    values = {
        "issue_id": event.issue_id,
        "kind": event.kind.value,
        "requested_by": event.requested_by,
        "reason": clean(event.reason),
        "summary": clean(event.summary),
        "diff": clean(event.diff),
        "diff_hash": event.diff_hash,
        "requested_at": event.occurred_at,
        "expires_at": event.expires_at,
        "event_id": event.event_id,
    }
    if current is None:
        await conn.execute(insert(Approval).values(id=event.approval_id, status="pending", **values))
    elif current.status == "pending" and current.diff_hash != event.diff_hash:
        # A re-request with another diff replaces the pending one: approvals of the old diff no longer match.
        await conn.execute(update(Approval).where(Approval.id == event.approval_id).values(**values))
    else:
        return []
    older = (
        (
            await conn.execute(
                select(Approval.id).where(
                    Approval.issue_id == event.issue_id,
                    Approval.kind == event.kind.value,
                    Approval.status == "pending",
                    Approval.id != event.approval_id,
                    Approval.requested_at <= event.occurred_at,
                )
            )
        )
        .scalars()
        .all()
    )
    if not older:
        return []
    await conn.execute(
        update(Approval)
        .where(Approval.id.in_(older))
        .values(
            status="superseded",
            decided_by=event.requested_by,
            decided_at=now,
            decision_reason=f"superseded by {event.approval_id}",
        )
    )
    return [
        audit.AuditRecord(
            event_id=f"{event.event_id}:supersedes:{old}",
            event_type="approval",
            issue_id=event.issue_id,
            occurred_at=event.occurred_at,
            service="control-api",
            actor=event.requested_by,
            action=f"approval.superseded.{event.kind.value}",
            status=ActionStatus.SUCCEEDED.value,
            summary=f"approval {old} superseded by {event.approval_id}",
            details={"approval_id": old, "superseded_by": event.approval_id},
        )
        for old in older
    ]


async def _keep_dead_letter(conn: AsyncConnection, event: DeadLetter, key: str, now: datetime) -> None:
    exists = (await conn.execute(select(DeadLetterRow.event_id).where(DeadLetterRow.event_id == key))).first()
    if exists:
        return
    await conn.execute(
        insert(DeadLetterRow).values(
            event_id=key,
            issue_id=event.issue_id,
            original_topic=event.original_topic,
            partition=event.partition,
            offset=event.offset,
            consumer_group=event.consumer_group,
            error_type=event.error_type,
            error=clean(event.error),
            attempts=event.attempts,
            permanent=event.permanent,
            key_b64=event.key_b64,
            value_b64=event.value_b64,
            headers=clean(dict(event.headers)),
            occurred_at=event.occurred_at,
            recorded_at=now,
        )
    )
