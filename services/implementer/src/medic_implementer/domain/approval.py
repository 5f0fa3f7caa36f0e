"""Fix approvals: their stable ids, and what an approve or reject command does to a pending one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from medic_contracts import ActionStatus, DiagnosisReady

__all__ = ["ApprovalRuling", "ApprovalVerdict", "approval_id_for", "rule_on_approval"]


def approval_id_for(diagnosis: DiagnosisReady, attempt: int) -> str:
    """A stable approval id: the same diagnosis (redelivered) asks under the same id."""
    return f"apr-fix-{diagnosis.issue_id}-{attempt}-{diagnosis.event_id[:8]}"[:200]


class ApprovalRuling(StrEnum):
    """What a decision command does to a pending fix approval (the value is the row's new status)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # an approval that arrived after the request expired
    MISMATCH = "mismatch"  # an approval naming another diff: ignored, the row stays pending


@dataclass(frozen=True, slots=True)
class ApprovalVerdict:
    """A ruling on a pending approval, with the audit status and reason it is recorded with."""

    ruling: ApprovalRuling
    status: ActionStatus
    why: str


def rule_on_approval(
    *, approve: bool, actor: str, expires_at: float, now: float, named_hash: str | None, diff_hash: str
) -> ApprovalVerdict:
    """Approve only an unexpired request for the diff the command names (or any, when it names none)."""
    if not approve:
        return ApprovalVerdict(ApprovalRuling.REJECTED, ActionStatus.SUCCEEDED, "rejected by " + actor)
    if now > expires_at:
        return ApprovalVerdict(ApprovalRuling.EXPIRED, ActionStatus.REFUSED, "approval arrived after the request expired")
    if named_hash is not None and named_hash != diff_hash:
        return ApprovalVerdict(ApprovalRuling.MISMATCH, ActionStatus.REFUSED, f"names diff {named_hash}, the fix is {diff_hash}")
    return ApprovalVerdict(ApprovalRuling.APPROVED, ActionStatus.SUCCEEDED, "approved by " + actor)
