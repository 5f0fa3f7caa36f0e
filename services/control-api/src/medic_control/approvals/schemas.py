"""Models of approvals."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..bodies import RequestBody

__all__ = ["ApprovalDecision", "ApprovalOut", "ApprovalRejection"]


class ApprovalOut(BaseModel):
    """An approval request and its decision."""

    id: str = Field(description="Approval id.", examples=["apr_iss_7d1f2a_fix_1"])
    issue_id: str = Field(description="Issue it belongs to.")
    kind: str = Field(description="fix, deploy, rollback or config.")
    requested_by: str = Field(description="Who asked (may not approve it).")
    reason: str = Field(description="Why approval is needed.")
    summary: str = Field(description="What happens if approved.")
    diff: str = Field(description="The diff to approve.")
    diff_hash: str = Field(description="The diff hash the approval is bound to.")
    status: str = Field(description="pending, approved, rejected, expired or superseded (a newer request for the same step).")
    requested_at: datetime = Field(description="When it was asked.")
    expires_at: datetime = Field(description="After this it can no longer be approved.")
    decided_by: str | None = Field(description="Who decided.")
    decided_at: datetime | None = Field(description="When.")
    decision_reason: str | None = Field(description="Why.")


class ApprovalDecision(RequestBody):
    """Approve: name the diff hash you reviewed; a different diff is refused."""

    diff_hash: str = Field(
        min_length=1, max_length=100, description="Hash of the diff you reviewed.", examples=["sha256:5f1d..."]
    )
    reason: str = Field(default="", max_length=2000, description="Why (audited).")


class ApprovalRejection(RequestBody):
    """Reject an approval request."""

    reason: str = Field(default="", max_length=2000, description="Why (audited).")
