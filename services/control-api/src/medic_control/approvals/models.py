"""agent_approvals: human approvals bound to a diff hash, expiring, decided once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime


class Approval(Base):
    """One approval request and, once decided, its decision."""

    __tablename__ = "agent_approvals"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[str] = mapped_column(Text, default="")
    diff_hash: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_id: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_agent_approvals_status", "status", "requested_at"),)
