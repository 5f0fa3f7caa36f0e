"""The implementer's own tables: fixes waiting for a human's approval, and what its fixes taught it."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

__all__ = ["fix_approvals", "metadata", "strategy_fixes", "strategy_outcomes"]

metadata = MetaData()

fix_approvals = Table(
    "fix_approvals",
    metadata,
    Column("approval_id", String(200), primary_key=True),
    Column("issue_id", String(200), nullable=False),
    Column("diagnosis", Text, nullable=False),  # the DiagnosisReady JSON
    Column("attempt", String(10), nullable=False),
    Column("diff", Text, nullable=False),
    Column("diff_hash", String(100), nullable=False),
    Column("base_sha", String(64), nullable=False),
    Column("strategy", String(50), nullable=False),
    Column("description", Text, nullable=False),
    Column("tests", Text, nullable=False),  # TestReport JSON
    Column("regression_test", Text, nullable=True),
    Column("status", String(20), nullable=False),  # pending | approved | rejected | expired
    Column("expires_at", Float, nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float, nullable=True),
)

# Every fix the implementer made or proposed, with the shape of its issue: what a later rollback,
# rejection or rating of that issue is attributed to.
strategy_fixes = Table(
    "strategy_fixes",
    metadata,
    Column("fix_key", String(300), primary_key=True),  # diagnosis event id + attempt
    Column("issue_id", String(200), nullable=False),
    Column("strategy", String(50), nullable=False),
    Column("fingerprint", String(200), nullable=False),
    Column("error_kind", String(100), nullable=False),
    Column("file", String(1000), nullable=True),
    Column("function", String(300), nullable=True),
    Column("commit_sha", String(64), nullable=True),
    Column("diff_hash", String(100), nullable=True),
    Column("created_at", Float, nullable=False),
    Index("ix_strategy_fixes_issue", "issue_id", "created_at"),
)

# Signals about a strategy (see domain/strategy_memory.py); keyed by the event that carried each,
# so a redelivered event or a command seen by every instance counts once.
strategy_outcomes = Table(
    "strategy_outcomes",
    metadata,
    Column("signal_key", String(300), primary_key=True),
    Column("issue_id", String(200), nullable=False),
    Column("strategy", String(50), nullable=False),
    Column("fingerprint", String(200), nullable=False),
    Column("error_kind", String(100), nullable=False),
    Column("file", String(1000), nullable=True),
    Column("function", String(300), nullable=True),
    Column("signal", String(30), nullable=False),
    Column("rating", Integer, nullable=True),
    Column("cause", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_strategy_outcomes_at", "at"),
)
