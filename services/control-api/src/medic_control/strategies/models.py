"""agent_strategy_outcomes: what happened to each fix, by the strategy that made it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UtcDateTime


class StrategyOutcomeRow(Base):
    """One outcome of a fix strategy on an issue: committed, promoted, rolled back, rejected, tests failed, rated."""

    __tablename__ = "agent_strategy_outcomes"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # the event (or feedback) it came from
    issue_id: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(30))
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_agent_strategy_outcomes_at", "occurred_at"),
        Index("ix_agent_strategy_outcomes_issue", "issue_id", "occurred_at"),
    )
