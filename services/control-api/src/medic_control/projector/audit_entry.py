"""The audit entry each event becomes: what happened, who did it, why, and its full payload."""

from __future__ import annotations

from typing import Any

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    ControlCommand,
    DeadLetter,
    DeploymentOutcome,
    DeploymentResult,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueDetected,
)

from ..actions import service as audit

__all__ = ["audit_record"]


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
