"""Alembic environment: migrations run on the connection control-api hands in (see ``db.migrate``)."""

from __future__ import annotations

from alembic import context

from medic_control.models import Base

connection = context.config.attributes["connection"]
translate = connection.get_execution_options().get("schema_translate_map") or {}
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table="agent_alembic_version",
    version_table_schema=translate.get(None),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
