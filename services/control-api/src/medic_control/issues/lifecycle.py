"""The issue state machine, pure: which status an event moves an issue to, and whether it may.

``detected → diagnosing → fixing → awaiting_approval → deploying → resolved | failed | rolled_back``,
and ``reopened`` when a resolved issue comes back. Events of one run through the loop share a
``correlation_id``; within a run an issue only moves forward, so a late (out-of-order) event never
drags it back. A newer run (a regression, a reopen) starts again from ``reopened``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DetectionReason,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueDetected,
)

__all__ = ["IssueStatus", "Transition", "next_status", "status_for"]


class IssueStatus(StrEnum):
    """Where an issue is in Medic's loop."""

    DETECTED = "detected"
    DIAGNOSING = "diagnosing"
    FIXING = "fixing"
    AWAITING_APPROVAL = "awaiting_approval"
    DEPLOYING = "deploying"
    RESOLVED = "resolved"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    REOPENED = "reopened"

    @property
    def rank(self) -> int:
        """Progress within one run: later stages rank higher; every end state ranks the same."""
        return _RANK[self]

    @property
    def terminal(self) -> bool:
        """True for resolved, failed and rolled_back."""
        return self in (IssueStatus.RESOLVED, IssueStatus.FAILED, IssueStatus.ROLLED_BACK)


_RANK = {
    IssueStatus.DETECTED: 0,
    IssueStatus.REOPENED: 0,
    IssueStatus.DIAGNOSING: 1,
    IssueStatus.FIXING: 2,
    IssueStatus.AWAITING_APPROVAL: 3,
    IssueStatus.DEPLOYING: 4,
    IssueStatus.RESOLVED: 5,
    IssueStatus.FAILED: 5,
    IssueStatus.ROLLED_BACK: 5,
}

_DEPLOY_STATUS = {
    DeploymentOutcome.ROLLED_BACK: IssueStatus.ROLLED_BACK,
    DeploymentOutcome.FAILED: IssueStatus.FAILED,
    DeploymentOutcome.AWAITING_APPROVAL: IssueStatus.AWAITING_APPROVAL,
    # Blocked by policy (deploy window, caps): waits for a human or the window, like an approval.
    DeploymentOutcome.BLOCKED: IssueStatus.AWAITING_APPROVAL,
    DeploymentOutcome.VERIFIED: IssueStatus.RESOLVED,
    DeploymentOutcome.REOPENED: IssueStatus.REOPENED,
}


def status_for(event: Envelope) -> IssueStatus | None:
    """The status an event reports for its issue, or None when it says nothing about progress."""
    if isinstance(event, IssueDetected):
        if event.reason is DetectionReason.REGRESSED:
            return IssueStatus.REOPENED
        return IssueStatus.DETECTED
    if isinstance(event, DiagnosisReady):
        return IssueStatus.AWAITING_APPROVAL if event.needs_human else IssueStatus.FIXING
    if isinstance(event, FixCommitted):
        return IssueStatus.DEPLOYING
    if isinstance(event, ApprovalRequested):
        return IssueStatus.AWAITING_APPROVAL
    if isinstance(event, DeploymentResult):
        if event.outcome is DeploymentOutcome.PROMOTED:
            return IssueStatus.RESOLVED if event.stage is DeploymentStage.PRODUCTION else IssueStatus.DEPLOYING
        return _DEPLOY_STATUS.get(event.outcome)
    if isinstance(event, ActionRecorded) and event.issue_id:
        if event.action.startswith("investigator.") and event.status is ActionStatus.STARTED:
            return IssueStatus.DIAGNOSING
        if event.action.startswith("implementer.") and event.status is ActionStatus.STARTED:
            return IssueStatus.FIXING
        if event.action.endswith(".failed") and event.status is ActionStatus.FAILED:
            return IssueStatus.FAILED  # the runtime's record of work that exhausted its retries
    return None


@dataclass(frozen=True, slots=True)
class Transition:
    """The status an issue takes and the run it is in after an event."""

    status: IssueStatus
    run_id: str
    changed_at: datetime


def next_status(
    *, current: IssueStatus, run_id: str, changed_at: datetime, reported: IssueStatus, event_run: str, event_at: datetime
) -> Transition | None:
    """Apply a reported status to an issue; None when the issue stays as it is.

    Within the current run a status applies only when it is further along (end states replace
    one another only in time order). An event of another run applies only when it is newer than
    the issue's last change: it starts the next run (a regression after a fix, a manual retry).
    """
    if reported is IssueStatus.REOPENED:
        if (current.terminal and event_at >= changed_at) or (event_run != run_id and event_at >= changed_at):
            return Transition(IssueStatus.REOPENED, event_run, event_at)
        return None
    if event_run == run_id:
        if reported.rank > current.rank or (
            reported.terminal and current.terminal and event_at > changed_at and reported != current
        ):
            return Transition(reported, run_id, max(event_at, changed_at))
        return None
    if event_at > changed_at:
        if reported is IssueStatus.DETECTED and current.terminal:
            return Transition(IssueStatus.REOPENED, event_run, event_at)
        if reported is IssueStatus.DETECTED and not current.terminal:
            return None  # the same problem seen again while it is being handled: not a new run
        return Transition(reported, event_run, event_at)
    return None
