"""agent_actions: the append-only, hash-chained, Merkle-tree audit trail (and the lock that orders appends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JsonDoc, UtcDateTime


class Action(Base):
    """One audited entry: an event seen on the bus or a step taken through the API."""

    __tablename__ = "agent_actions"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    issue_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    service: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: sha256(0x00 || canonical JSON): the entry's leaf in the RFC 6962 tree (seq - 1 is its index).
    leaf_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_agent_actions_issue", "issue_id", "seq"),
        Index("ix_agent_actions_occurred", "occurred_at"),
        Index("ix_agent_actions_action", "action", "seq"),
    )


class AuditLock(Base):
    """A single row every appender locks first, so the chain grows one writer at a time."""

    __tablename__ = "agent_audit_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    appended: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    #: The Merkle tree's size and compact range (hex hashes concatenated): its head grows from these in O(log n).
    tree_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    compact_range: Mapped[str] = mapped_column(Text, default="")
