"""agent_issues: one row per issue, projected from the events of its life."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, JsonDoc, UtcDateTime


class Issue(Base):
    """An issue as control-api knows it: its facts, where it is in the loop, and its outcome."""

    __tablename__ = "agent_issues"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    service: Mapped[str] = mapped_column(String(200), default="")
    environment: Mapped[str] = mapped_column(String(100), default="production")
    title: Mapped[str] = mapped_column(String(500), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(2))
    issue_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(100), default="")
    affected_users: Mapped[int] = mapped_column(Integer, default=0)
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    run_id: Mapped[str] = mapped_column(String(64), default="")
    commit_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    release: Mapped[str | None] = mapped_column(String(200), nullable=True)
    root_cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    affected_file: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    affected_lines: Mapped[str | None] = mapped_column(String(40), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    fix_strategy: Mapped[str | None] = mapped_column(String(40), nullable=True)
    fix_branch: Mapped[str | None] = mapped_column(String(300), nullable=True)
    fix_commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pr_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    diff_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    test_outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    deployment_stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    deployment_outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    rollback_count: Mapped[int] = mapped_column(Integer, default=0)
    auto_deployed: Mapped[bool | None] = mapped_column(default=None, nullable=True)
    llm_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # severity SLA (P4: none)
    sla_escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sla_missed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    false_positive: Mapped[bool] = mapped_column(default=False, server_default=false())
    false_positive_by: Mapped[str | None] = mapped_column(String(300), nullable=True)

    __table_args__ = (
        Index("ix_agent_issues_detected", "detected_at", "id"),
        Index("ix_agent_issues_status_detected", "status", "detected_at", "id"),
        Index("ix_agent_issues_severity_detected", "severity", "detected_at", "id"),
        Index("ix_agent_issues_type_detected", "issue_type", "detected_at", "id"),
        Index("ix_agent_issues_resolved", "resolved_at"),
        Index("ix_agent_issues_deadline", "deadline"),
    )
