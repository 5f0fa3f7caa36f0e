"""The audit store's declarative base, column types shared by every domain, and migrations.

control-api keeps its tables in the runtime's store (the same database and transaction as the
processed-event ids and the outbox), so a projected event, its idempotency mark and the events it
causes commit together. On PostgreSQL the runtime puts every table of the service in the schema
``medic_control_api``; migrations run under the same schema translation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase

__all__ = ["PG_SCHEMA", "Base", "JsonDoc", "UtcDateTime", "migrate", "open_engine", "utc"]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every control-api table."""

    metadata = MetaData(naming_convention=NAMING)


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = utc(value)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


class JsonDoc(TypeDecorator[Any]):
    """JSON kept as text (PostgreSQL ``json``, not ``jsonb``) so the hashed form reads back unchanged."""

    impl = JSON
    cache_ok = True


#: PostgreSQL schema of control-api's tables (the runtime's store uses ``medic_<service>``).
PG_SCHEMA = "medic_control_api"


def open_engine(url: str) -> tuple[AsyncEngine, str | None]:
    """An engine on control-api's store with the same schema mapping as the service (for tools and the CLI)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if url.startswith("sqlite"):
        return create_async_engine(url), None
    engine = create_async_engine(url).execution_options(schema_translate_map={None: PG_SCHEMA})
    return engine, PG_SCHEMA


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("medic_control") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine, *, schema: str | None) -> None:
    """Bring the store's tables to the latest migration (idempotent; safe at every start)."""
    async with engine.begin() as conn:
        if schema:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            # One migrator at a time when several instances start together.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('medic_control_migrate'))"))
        await conn.run_sync(_upgrade)
