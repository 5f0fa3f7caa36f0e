"""audit Merkle tree: each entry's leaf hash, the tree's compact range, and inserts only at the head

Every ``agent_actions`` row gets ``leaf_hash`` (sha256(0x00 || its canonical JSON), RFC 6962) and
the lock row keeps the tree's size and compact range, so the head grows in O(log n) per append.
Existing rows are hashed here, once.

The database now also refuses an INSERT that is not the next entry: its seq must be the last
seq + 1 and its prev_hash the last entry's hash (a BEFORE INSERT trigger on both dialects). On
SQLite, ``REPLACE`` / ``INSERT OR REPLACE`` deletes the conflicting row without firing DELETE
triggers unless ``recursive_triggers`` is on (and a ``sqlite3`` shell does not turn it on), so a
second trigger refuses any INSERT whose event id is already present, before REPLACE can delete it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_GENESIS = "0" * 64

# SQLite: the next entry only (seq = last + 1, prev_hash = last hash, a leaf hash present).
_SQLITE_NEXT_ONLY = """
CREATE TRIGGER agent_actions_next_only BEFORE INSERT ON agent_actions
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM agent_actions)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM agent_actions ORDER BY seq DESC LIMIT 1), '{genesis}')
  OR length(NEW.leaf_hash) IS NOT 64
BEGIN SELECT RAISE(ABORT, 'agent_actions is append-only: INSERT out of sequence refused'); END
""".replace("{genesis}", _GENESIS)


def _schema_name() -> str | None:
    translate = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    schema: str | None = translate.get(None)
    return schema


def _schema() -> str:
    schema = _schema_name()
    return f'"{schema}".' if schema else ""


def _backfill() -> None:
    """Hash the rows already in the trail and store the tree's compact range."""
    from medic_control.actions.chain import ChainEntry
    from medic_control.actions.merkle import CompactRange, leaf_hash
    from medic_control.actions.models import Action

    bind = op.get_bind()
    table = Action.__table__
    tree = CompactRange()
    updates: list[dict[str, object]] = []
    for row in bind.execute(sa.select(table).order_by(table.c.seq)):
        entry = ChainEntry(**{name: getattr(row, name) for name in ChainEntry.__slots__})
        digest = leaf_hash(entry.canonical().encode("utf-8"))
        tree.append(digest)
        updates.append({"s": row.seq, "h": digest.hex()})
    if not updates:
        return
    s = _schema()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {s}agent_actions DISABLE TRIGGER agent_actions_no_change")
    else:
        op.execute("DROP TRIGGER agent_actions_no_update")
    bind.execute(sa.text(f"UPDATE {s}agent_actions SET leaf_hash = :h WHERE seq = :s"), updates)  # noqa: S608 - schema from settings
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {s}agent_actions ENABLE TRIGGER agent_actions_no_change")
    else:
        op.execute(
            "CREATE TRIGGER agent_actions_no_update BEFORE UPDATE ON agent_actions "
            "BEGIN SELECT RAISE(ABORT, 'agent_actions is append-only: UPDATE refused'); END"
        )
    bind.execute(
        sa.text(f"UPDATE {s}agent_audit_lock SET tree_size = :n, compact_range = :c WHERE id = 1"),  # noqa: S608
        {"n": tree.size, "c": tree.encode()},
    )


def _insert_guard() -> None:
    s = _schema()
    if op.get_bind().dialect.name == "postgresql":
        # Rows inserted earlier by the same statement (a COPY of a batch) are visible here: each must follow the last.
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION {s}medic_audit_next_only() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE last_seq bigint; last_hash text;
            BEGIN
              SELECT seq, hash INTO last_seq, last_hash FROM {s}agent_actions ORDER BY seq DESC LIMIT 1;
              IF NOT FOUND THEN last_seq := 0; last_hash := '{_GENESIS}'; END IF;
              IF NEW.seq IS DISTINCT FROM last_seq + 1 OR NEW.prev_hash IS DISTINCT FROM last_hash
                 OR NEW.leaf_hash !~ '^[0-9a-f]{{64}}$' THEN
                RAISE EXCEPTION 'agent_actions is append-only: INSERT of seq % refused (the next entry is seq % after %)',
                  NEW.seq, last_seq + 1, last_hash USING ERRCODE = 'insufficient_privilege';
              END IF;
              RETURN NEW;
            END $$
            """  # noqa: S608 - names are ours
        )
        op.execute(
            f"CREATE TRIGGER agent_actions_next_only BEFORE INSERT ON {s}agent_actions "
            f"FOR EACH ROW EXECUTE FUNCTION {s}medic_audit_next_only()"
        )
        return
    op.execute(_SQLITE_NEXT_ONLY)
    op.execute(
        "CREATE TRIGGER agent_actions_no_replace BEFORE INSERT ON agent_actions "
        "WHEN EXISTS (SELECT 1 FROM agent_actions WHERE event_id = NEW.event_id) "
        "BEGIN SELECT RAISE(ABORT, 'agent_actions is append-only: REPLACE of an entry refused'); END"
    )


def upgrade() -> None:
    schema = _schema_name()  # ALTER TABLE is not schema-translated: name it
    op.add_column("agent_actions", sa.Column("leaf_hash", sa.String(length=64), nullable=False, server_default=""), schema=schema)
    op.add_column(
        "agent_audit_lock",
        sa.Column("tree_size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, server_default="0"),
        schema=schema,
    )
    op.add_column("agent_audit_lock", sa.Column("compact_range", sa.Text(), nullable=False, server_default=""), schema=schema)
    _backfill()
    _insert_guard()


def downgrade() -> None:
    s = _schema()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS agent_actions_next_only ON {s}agent_actions")
        op.execute(f"DROP FUNCTION IF EXISTS {s}medic_audit_next_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS agent_actions_next_only")
        op.execute("DROP TRIGGER IF EXISTS agent_actions_no_replace")
    schema = _schema_name()
    op.drop_column("agent_audit_lock", "compact_range", schema=schema)
    op.drop_column("agent_audit_lock", "tree_size", schema=schema)
    op.drop_column("agent_actions", "leaf_hash", schema=schema)
