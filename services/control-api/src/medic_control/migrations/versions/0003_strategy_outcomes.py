"""strategy outcomes: what happened to each fix, by the strategy that made it (the learning loop)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_strategy_outcomes",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("issue_id", sa.String(length=200), nullable=False),
        sa.Column("strategy", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_agent_strategy_outcomes")),
    )
    op.create_index("ix_agent_strategy_outcomes_at", "agent_strategy_outcomes", ["occurred_at"], unique=False)
    op.create_index("ix_agent_strategy_outcomes_issue", "agent_strategy_outcomes", ["issue_id", "occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_agent_strategy_outcomes_issue", table_name="agent_strategy_outcomes")
    op.drop_index("ix_agent_strategy_outcomes_at", table_name="agent_strategy_outcomes")
    op.drop_table("agent_strategy_outcomes")
