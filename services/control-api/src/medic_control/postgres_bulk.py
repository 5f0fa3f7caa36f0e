"""Bulk writes of the projector on PostgreSQL, straight through asyncpg in the caller's transaction.

The projector writes hundreds of rows per batch. Through SQLAlchemy each row's parameters are
processed in Python (bind processors, JSON encoding, casts), which cost more than PostgreSQL's work;
here rows go as binary COPY (new rows) or one prepared statement executed for many parameter sets
(asyncpg's pipelined ``executemany``), and key lookups take one array parameter instead of an
expanded ``IN`` list. On SQLite none of this applies: :func:`driver` answers None and callers keep
their SQLAlchemy statements.

Values must be what asyncpg encodes for the column types: ``json`` columns take their JSON text
(SQLAlchemy's asyncpg dialect registers a text codec for ``json``), timestamps are aware datetimes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

#: From this many rows on, :func:`copy_rows` uses COPY.
COPY_FROM_ROWS = 20

__all__ = ["copy_rows", "driver", "existing_keys", "insert_sql", "schema_of", "select_by_keys", "table_name", "update_rows"]


async def driver(conn: AsyncConnection) -> asyncpg.Connection | None:
    """The asyncpg connection under ``conn`` (inside its transaction) on PostgreSQL; None elsewhere."""
    if conn.dialect.name != "postgresql":
        return None
    raw = await conn.get_raw_connection()
    pg: asyncpg.Connection = raw.driver_connection
    return pg


def schema_of(conn: AsyncConnection) -> str | None:
    """The schema the connection's tables live in (the runtime's schema translation), if any."""
    options = conn.sync_connection.get_execution_options() if conn.sync_connection is not None else {}
    translate = options.get("schema_translate_map") or {}
    schema: str | None = translate.get(None)
    return schema


def table_name(conn: AsyncConnection, table: Table) -> str:
    """The table's quoted name, with its schema when there is one."""
    schema = schema_of(conn)
    return f'"{schema}"."{table.name}"' if schema else f'"{table.name}"'


async def copy_rows(
    conn: AsyncConnection, pg: asyncpg.Connection, table: Table, *, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order): binary COPY for many, one prepared INSERT for a few.

    COPY takes several round trips to start and finish, which a handful of rows (an event posted over
    HTTP, the tail of a batch) would spend inside the caller's lock; a prepared INSERT takes one.
    """
    if len(rows) < COPY_FROM_ROWS:
        await pg.executemany(insert_sql(table_name(conn, table), tuple(columns)), rows)
        return
    await pg.copy_records_to_table(table.name, schema_name=schema_of(conn), columns=list(columns), records=rows)


@functools.cache
def insert_sql(name: str, columns: tuple[str, ...]) -> str:
    """``INSERT INTO name (columns) VALUES ($1, …)``, for a prepared statement."""
    values = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608 - names are the table's own


async def existing_keys(
    conn: AsyncConnection, pg: asyncpg.Connection, table: Table, *, column: str, keys: Sequence[str]
) -> set[str]:
    """Which of ``keys`` are present in ``table.column``."""
    rows = await pg.fetch(f"SELECT {column} FROM {table_name(conn, table)} WHERE {column} = ANY($1::text[])", list(keys))  # noqa: S608
    return {r[0] for r in rows}


async def select_by_keys(
    conn: AsyncConnection, pg: asyncpg.Connection, table: Table, *, columns: Sequence[str], key: str, keys: Sequence[str]
) -> list[dict[str, Any]]:
    """``columns`` of the rows whose ``key`` is one of ``keys``."""
    sql = f"SELECT {', '.join(columns)} FROM {table_name(conn, table)} WHERE {key} = ANY($1::text[])"  # noqa: S608
    return [dict(zip(columns, r.values(), strict=True)) for r in await pg.fetch(sql, list(keys))]


@functools.cache
def _update_sql(name: str, key: str, columns: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    return f"UPDATE {name} SET {assignments} WHERE {key} = $1"  # noqa: S608 - names are the table's own


async def update_rows(
    conn: AsyncConnection,
    pg: asyncpg.Connection,
    table: Table,
    *,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set ``columns`` of each row (``(key value, *column values)``), one prepared statement for all."""
    await pg.executemany(_update_sql(table_name(conn, table), key, tuple(columns)), rows)
