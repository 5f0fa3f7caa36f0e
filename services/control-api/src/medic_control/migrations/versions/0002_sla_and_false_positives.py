"""severity SLAs and false positives: each issue's deadline, when it was escalated or missed, human false-positive marks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    """The runtime's schema (PostgreSQL): ALTER statements do not go through the schema translation map."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    schema: str | None = translate.get(None)
    return schema


def upgrade() -> None:
    schema = _schema()
    with op.batch_alter_table("agent_issues", schema=schema) as batch:
        batch.add_column(sa.Column("deadline", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_missed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("false_positive", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("false_positive_by", sa.String(length=300), nullable=True))
    op.create_index("ix_agent_issues_deadline", "agent_issues", ["deadline"], unique=False, schema=schema)


def downgrade() -> None:
    schema = _schema()
    op.drop_index("ix_agent_issues_deadline", table_name="agent_issues", schema=schema)
    with op.batch_alter_table("agent_issues", schema=schema) as batch:
        for name in ("false_positive_by", "false_positive", "sla_missed_at", "sla_escalated_at", "deadline"):
            batch.drop_column(name)
