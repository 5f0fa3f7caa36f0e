"""The implementer's own tables: fixes waiting for a human's approval."""

from __future__ import annotations

from sqlalchemy import Column, Float, MetaData, String, Table, Text

__all__ = ["fix_approvals", "metadata"]

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
