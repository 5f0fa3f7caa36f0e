"""agent_dead_letters: messages a consumer gave up on, with their original bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JsonDoc, UtcDateTime


class DeadLetterRow(Base):
    """One dead letter as published on medic.dlq."""

    __tablename__ = "agent_dead_letters"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issue_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    original_topic: Mapped[str] = mapped_column(String(255))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    consumer_group: Mapped[str] = mapped_column(String(255))
    error_type: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    permanent: Mapped[bool] = mapped_column(Boolean)
    key_b64: Mapped[str | None] = mapped_column(Text, nullable=True)
    value_b64: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_agent_dead_letters_recorded", "recorded_at"),)
