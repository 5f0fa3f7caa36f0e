"""Response models of the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ActionOut", "ActionPage", "AuditHead", "AuditVerification"]


class ActionOut(BaseModel):
    """One audit entry: what happened, who did it, why, with its details and hashes."""

    seq: int = Field(description="Position in the chain (1, 2, 3, …).")
    event_id: str = Field(description="Event the entry records.")
    event_type: str = Field(description="Type of that event.", examples=["fix_committed"])
    issue_id: str | None = Field(description="Issue it belongs to.", examples=["iss_7d1f2a"])
    occurred_at: datetime = Field(description="When it happened.")
    recorded_at: datetime = Field(description="When control-api recorded it.")
    service: str = Field(description="Service that produced it.", examples=["implementer"])
    actor: str = Field(description="Who acted (service, token name or OIDC subject).", examples=["alice"])
    action: str = Field(description="Dotted step name.", examples=["fix.committed"])
    status: str = Field(description="started, succeeded, failed, refused or skipped.")
    summary: str = Field(description="One line for the feed.")
    reasoning: str | None = Field(description="Why, in words.")
    details: dict[str, Any] = Field(description="Structured details: the event payload, diff, tests, verdicts.")
    prev_hash: str = Field(description="Hash of the previous entry.")
    hash: str = Field(description="sha256(prev_hash || canonical_json(entry)).")


class ActionPage(BaseModel):
    """A page of audit entries, newest first."""

    items: list[ActionOut] = Field(description="The entries.")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


class AuditHead(BaseModel):
    """The chain's head, for export outside the database."""

    seq: int = Field(description="seq of the last entry (0 when empty).")
    hash: str = Field(description="Its hash.")


class AuditVerification(BaseModel):
    """The result of recomputing the whole chain."""

    ok: bool = Field(description="True when every entry is intact and in place.")
    rows: int = Field(description="Entries verified before the first problem.")
    head_seq: int = Field(description="Last intact entry.")
    head_hash: str = Field(description="Its hash.")
    first_bad_seq: int | None = Field(default=None, description="First entry that is edited, missing or out of place.")
    first_bad_event_id: str | None = Field(default=None, description="Its event id, when the row exists.")
    problem: str | None = Field(default=None, description="What is wrong with it.")
