"""initial schema: issues, the hash-chained audit trail (append-only), config, approvals, tokens, feedback, DLQ

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _schema() -> str:
    """The schema prefix under the runtime's schema translation (PostgreSQL), else nothing."""
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(None)
    return f'"{schema}".' if schema else ""


def _append_only() -> None:
    """Refuse UPDATE, DELETE and TRUNCATE of agent_actions in the database itself."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        s = _schema()
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {s}medic_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'agent_actions is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER agent_actions_no_change BEFORE UPDATE OR DELETE ON {s}agent_actions "
            f"FOR EACH ROW EXECUTE FUNCTION {s}medic_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER agent_actions_no_truncate BEFORE TRUNCATE ON {s}agent_actions "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {s}medic_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER agent_actions_no_{verb.lower()} BEFORE {verb} ON agent_actions "
                f"BEGIN SELECT RAISE(ABORT, 'agent_actions is append-only: {verb} refused'); END"
            )


def upgrade() -> None:
    op.create_table(
        "agent_actions",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("issue_id", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_agent_actions")),
        sa.UniqueConstraint("event_id", name=op.f("uq_agent_actions_event_id")),
    )
    op.create_index("ix_agent_actions_action", "agent_actions", ["action", "seq"], unique=False)
    op.create_index("ix_agent_actions_issue", "agent_actions", ["issue_id", "seq"], unique=False)
    op.create_index("ix_agent_actions_occurred", "agent_actions", ["occurred_at"], unique=False)

    op.create_table(
        "agent_api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_agent_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_api_tokens_token_hash")),
    )
    op.create_table(
        "agent_approvals",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("issue_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("diff_hash", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_approvals")),
    )
    op.create_index("ix_agent_approvals_status", "agent_approvals", ["status", "requested_at"], unique=False)

    op.create_table(
        "agent_audit_lock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("appended", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_audit_lock")),
    )
    op.create_table(
        "agent_config",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("autonomy_level", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_agent_config")),
    )
    op.create_table(
        "agent_control_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_control_state")),
    )
    op.create_table(
        "agent_dead_letters",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("issue_id", sa.String(length=200), nullable=True),
        sa.Column("original_topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("consumer_group", sa.String(length=255), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("key_b64", sa.Text(), nullable=True),
        sa.Column("value_b64", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_agent_dead_letters")),
    )
    op.create_index("ix_agent_dead_letters_recorded", "agent_dead_letters", ["recorded_at"], unique=False)

    op.create_table(
        "agent_fix_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_fix_feedback")),
    )
    op.create_index("ix_agent_fix_feedback_issue", "agent_fix_feedback", ["issue_id"], unique=False)

    op.create_table(
        "agent_issues",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("issue_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("affected_users", sa.Integer(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=True),
        sa.Column("release", sa.String(length=200), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("affected_file", sa.String(length=1000), nullable=True),
        sa.Column("affected_lines", sa.String(length=40), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fix_strategy", sa.String(length=40), nullable=True),
        sa.Column("fix_branch", sa.String(length=300), nullable=True),
        sa.Column("fix_commit", sa.String(length=64), nullable=True),
        sa.Column("pr_url", sa.String(length=1000), nullable=True),
        sa.Column("diff_hash", sa.String(length=100), nullable=True),
        sa.Column("test_outcome", sa.String(length=20), nullable=True),
        sa.Column("deployment_stage", sa.String(length=20), nullable=True),
        sa.Column("deployment_outcome", sa.String(length=30), nullable=True),
        sa.Column("rollback_count", sa.Integer(), nullable=False),
        sa.Column("auto_deployed", sa.Boolean(), nullable=True),
        sa.Column("llm_cost_usd", sa.Float(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_issues")),
    )
    op.create_index("ix_agent_issues_detected", "agent_issues", ["detected_at", "id"], unique=False)
    op.create_index("ix_agent_issues_resolved", "agent_issues", ["resolved_at"], unique=False)
    op.create_index("ix_agent_issues_severity_detected", "agent_issues", ["severity", "detected_at", "id"], unique=False)
    op.create_index("ix_agent_issues_status_detected", "agent_issues", ["status", "detected_at", "id"], unique=False)
    op.create_index("ix_agent_issues_type_detected", "agent_issues", ["issue_type", "detected_at", "id"], unique=False)
    op.execute(f"INSERT INTO {_schema()}agent_audit_lock (id, appended) VALUES (1, 0)")  # noqa: S608 - schema name from settings
    _append_only()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        s = _schema()
        op.execute(f"DROP TRIGGER IF EXISTS agent_actions_no_change ON {s}agent_actions")
        op.execute(f"DROP TRIGGER IF EXISTS agent_actions_no_truncate ON {s}agent_actions")
        op.execute(f"DROP FUNCTION IF EXISTS {s}medic_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS agent_actions_no_update")
        op.execute("DROP TRIGGER IF EXISTS agent_actions_no_delete")
    op.drop_index("ix_agent_issues_type_detected", table_name="agent_issues")
    op.drop_index("ix_agent_issues_status_detected", table_name="agent_issues")
    op.drop_index("ix_agent_issues_severity_detected", table_name="agent_issues")
    op.drop_index("ix_agent_issues_resolved", table_name="agent_issues")
    op.drop_index("ix_agent_issues_detected", table_name="agent_issues")
    op.drop_table("agent_issues")
    op.drop_index("ix_agent_fix_feedback_issue", table_name="agent_fix_feedback")
    op.drop_table("agent_fix_feedback")
    op.drop_index("ix_agent_dead_letters_recorded", table_name="agent_dead_letters")
    op.drop_table("agent_dead_letters")
    op.drop_table("agent_control_state")
    op.drop_table("agent_config")
    op.drop_table("agent_audit_lock")
    op.drop_index("ix_agent_approvals_status", table_name="agent_approvals")
    op.drop_table("agent_approvals")
    op.drop_table("agent_api_tokens")
    op.drop_index("ix_agent_actions_occurred", table_name="agent_actions")
    op.drop_index("ix_agent_actions_issue", table_name="agent_actions")
    op.drop_index("ix_agent_actions_action", table_name="agent_actions")
    op.drop_table("agent_actions")
