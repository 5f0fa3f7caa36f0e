"""issue summary JSON: each issue's IssueSummary, kept by PostgreSQL itself (the issue list's read model)

The issue list is the API's hottest read. On PostgreSQL each row of ``agent_issues`` carries its
IssueSummary JSON, written by a trigger on every INSERT and UPDATE (projector, API and direct SQL
alike), so a page is 50 stored strings joined instead of 50 rows rendered per request. The JSON is
exactly what pydantic serializes for IssueSummary (field order, UTC timestamps ending in ``Z``,
microseconds only when set); ``test_issue_list`` compares the two byte for byte. A change to
IssueSummary needs a migration that redefines ``medic_issue_summary_json``.

SQLite has no such column: there the list is rendered by the ORM path.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# IssueSummary's fields in its order; timestamps go through medic_json_time.
_FIELDS = (
    "id",
    "target",
    "service",
    "title",
    "severity",
    "issue_type",
    "status",
    "affected_users",
    "occurrences",
    "detected_at",
    "status_changed_at",
    "resolved_at",
    "last_seen",
    "pr_url",
    "deployment_stage",
    "rollback_count",
    "deadline",
    "sla_escalated_at",
    "sla_missed_at",
    "false_positive",
)
_TIMES = frozenset(
    {"detected_at", "status_changed_at", "resolved_at", "last_seen", "deadline", "sla_escalated_at", "sla_missed_at"}
)


def _schema() -> str:
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(None)
    return f'"{schema}".' if schema else ""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    s = _schema()
    op.execute(f"ALTER TABLE {s}agent_issues ADD COLUMN summary_json text")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {s}medic_json_time(at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
          SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
              || CASE WHEN date_part('microseconds', at)::int % 1000000 <> 0
                      THEN to_char(at AT TIME ZONE 'UTC', '.US') ELSE '' END
              || 'Z'
        $$
        """
    )
    columns = ", ".join(
        f"{s}medic_json_time(NEW.{name}) AS {name}" if name in _TIMES else f"NEW.{name} AS {name}" for name in _FIELDS
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {s}medic_issue_summary_json() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.summary_json := (SELECT row_to_json(j)::text FROM (SELECT {columns}) j);
          RETURN NEW;
        END $$
        """  # noqa: S608 - names are ours
    )
    op.execute(
        f"CREATE TRIGGER agent_issues_summary_json BEFORE INSERT OR UPDATE ON {s}agent_issues "
        f"FOR EACH ROW EXECUTE FUNCTION {s}medic_issue_summary_json()"
    )
    op.execute(f"UPDATE {s}agent_issues SET summary_json = NULL")  # noqa: S608 - the trigger renders every existing row


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    s = _schema()
    op.execute(f"DROP TRIGGER IF EXISTS agent_issues_summary_json ON {s}agent_issues")
    op.execute(f"DROP FUNCTION IF EXISTS {s}medic_issue_summary_json()")
    op.execute(f"DROP FUNCTION IF EXISTS {s}medic_json_time(timestamptz)")
    op.execute(f"ALTER TABLE {s}agent_issues DROP COLUMN summary_json")
