"""agent_fix_feedback: a human's rating of a fix."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime


class FixFeedback(Base):
    """A rating (1–5) and comment on how Medic handled an issue."""

    __tablename__ = "agent_fix_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[str] = mapped_column(String(200))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_agent_fix_feedback_issue", "issue_id"),)
