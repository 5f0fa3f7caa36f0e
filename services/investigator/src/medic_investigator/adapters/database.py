"""Read-only access to the target application's database (the ``[database]`` section of medic.toml).

```toml
[database]
dsn_env = "APP_DATABASE_URL"          # variable holding the connection string (never the file)
schema = "public"
allowed_tables = ["practices", "users", "billing.invoices"]
row_limit = 50
statement_timeout_ms = 2000
redact_columns = ["email", "phone"]
```

Every statement runs on its own connection, in a ``READ ONLY`` transaction (the session default is
read-only too) that is always rolled back, with ``statement_timeout`` and ``lock_timeout`` set and
``search_path`` pinned. Before anything runs, :mod:`..domain.sql_guard` must accept the text; then the
catalog must show every named function as a built-in immutable/stable one, and ``EXPLAIN (VERBOSE)``
must show only allow-listed relations (views are expanded there, so a view cannot smuggle a table in).
Rows are fetched through a cursor up to the row limit and redacted before anyone sees them: a value is
replaced when its column is named in ``redact_columns`` *or derives from one* (aliases, functions,
casts, subqueries, CTEs, ``SELECT *``, whole-row references, aggregates: :mod:`..domain.sql_lineage`,
over the allow-listed relations' columns read from the catalog, views through their definitions); a
statement whose lineage cannot be followed is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from medic_runtime import Redactor

from ..domain.errors import QueryFailed
from ..domain.sql_guard import (
    QueryRefused,
    StatementShape,
    TableAllowList,
    function_denied,
    inspect_explainable,
    inspect_select,
    operator_symbols,
    plan_relations,
    refusals,
)
from ..domain.sql_lineage import LineageColumn, LineageUnknown, base_columns, output_lineage

__all__ = ["DatabaseSection", "IndexInfo", "QueryResult", "ReadOnlyDatabase"]


class DatabaseSection(BaseModel):
    """The ``[database]`` section: how the investigator may read the application's database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dsn_env: str = Field(min_length=1, description="Environment variable holding the PostgreSQL connection string.")
    schema_name: str = Field(
        default="public", alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", description="Schema of unqualified tables."
    )
    allowed_tables: tuple[str, ...] = Field(
        min_length=1, description="Tables a diagnostic query may read ('table' or 'schema.table'); nothing else is readable."
    )
    row_limit: int = Field(default=50, ge=1, le=1000, description="Rows returned per query at most.")
    statement_timeout_ms: int = Field(default=2000, ge=10, le=60_000, description="Server-side statement timeout.")
    connect_timeout_s: float = Field(default=5.0, gt=0, le=60, description="Connection timeout.")
    redact_columns: tuple[str, ...] = Field(
        default=("email", "phone", "password", "token", "address", "ip"),
        description="Columns whose values are always redacted (beyond the telemetry redaction rules).",
    )

    def allow_list(self) -> TableAllowList:
        """The allow-list as the guard reads it."""
        return TableAllowList.of(self.allowed_tables, schema=self.schema_name)


@dataclass(frozen=True, slots=True)
class QueryResult:
    """What an allowed query returned (already redacted)."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    truncated: bool
    elapsed_ms: float
    relations: tuple[str, ...]

    def as_data(self) -> dict[str, Any]:
        """The result as the tool's ``data``."""
        return {
            "columns": list(self.columns),
            "rows": self.rows,
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "relations": list(self.relations),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """An existing index: its name, its key columns (in order) and its definition."""

    name: str
    columns: tuple[str, ...]
    definition: str


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, asyncpg.Record):
        return {k: _json_value(v) for k, v in value.items()}
    return str(value)


class ReadOnlyDatabase:
    """Runs diagnostic statements against the application's database under the rules in the module docstring."""

    def __init__(self, section: DatabaseSection, *, dsn: str, redactor: Redactor | None = None) -> None:
        self.section = section
        self.allow = section.allow_list()
        self._dsn = dsn
        self.redactor = redactor or Redactor()
        self._redact_columns = {c.lower() for c in section.redact_columns}

    @asynccontextmanager
    async def _read_only(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside a READ ONLY transaction that is always rolled back."""
        timeout = self.section.statement_timeout_ms
        try:
            conn = await asyncpg.connect(
                self._dsn,
                timeout=self.section.connect_timeout_s,
                statement_cache_size=0,  # poolers in transaction mode (Supabase) cannot keep prepared statements
                server_settings={
                    "application_name": "medic-investigator",
                    "default_transaction_read_only": "on",
                    "statement_timeout": str(timeout),
                    "lock_timeout": str(min(timeout, 1000)),
                    "idle_in_transaction_session_timeout": str(max(timeout * 5, 10_000)),
                },
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise QueryFailed(f"cannot connect to the database: {type(exc).__name__}", kind="unavailable") from None
        try:
            tx = conn.transaction(readonly=True)
            await tx.start()
            try:
                await conn.execute(f"SET LOCAL statement_timeout = {int(timeout)}")
                await conn.execute(f"SET LOCAL search_path = {_quote_ident(self.section.schema_name)}, pg_catalog, pg_temp")
                yield conn
            finally:
                if not conn.is_closed():
                    await tx.rollback()
        finally:
            with contextlib.suppress(asyncpg.InterfaceError, OSError, TimeoutError):
                await conn.close(timeout=2)

    async def _check_catalog(self, conn: asyncpg.Connection, shape: StatementShape) -> list[str]:
        """Functions and operators the statement names must all be built-in and immutable or stable."""
        problems: list[str] = []
        schema = self.section.schema_name
        for fn in sorted(shape.functions):
            spaces = [fn.schema] if fn.schema else ["pg_catalog", schema]
            rows = await conn.fetch(
                "SELECT n.nspname::text AS nspname, p.provolatile::text AS provolatile FROM pg_catalog.pg_proc p "
                "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                "WHERE p.proname = $1 AND n.nspname = ANY($2::text[])",
                fn.name,
                spaces,
            )
            if not rows:
                problems.append(f"unknown function {fn}")
            elif any(r["nspname"] != "pg_catalog" for r in rows):
                problems.append(f"function {fn} is not (only) a built-in function")
            elif any(r["provolatile"] == "v" for r in rows) or function_denied(fn.name):
                problems.append(f"function {fn} is volatile (it may have side effects): only immutable or stable functions")
        symbols = operator_symbols(shape)
        if symbols:
            rows = await conn.fetch(
                "SELECT o.oprname::text AS oprname, n.nspname::text AS nspname, p.provolatile::text AS provolatile "
                "FROM pg_catalog.pg_operator o "
                "JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace "
                "JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode::oid "
                "WHERE o.oprname = ANY($1::text[]) AND n.nspname = ANY($2::text[])",
                symbols,
                ["pg_catalog", schema],
            )
            for r in rows:
                if r["nspname"] != "pg_catalog" or r["provolatile"] == "v":
                    problems.append(f"operator {r['oprname']} is user-defined or volatile")
        return sorted(set(problems))

    async def query(self, sql: str) -> QueryResult:
        """Run one allowed SELECT; :class:`QueryRefused` or :class:`QueryFailed` say why not."""
        shape = inspect_select(sql)
        problems = refusals(shape, self.allow)
        if problems:
            raise QueryRefused("; ".join(problems))
        started = time.perf_counter()
        try:
            async with self._read_only() as conn:
                problems = await self._check_catalog(conn, shape)
                if problems:
                    raise QueryRefused("; ".join(problems))
                plan = json.loads(await conn.fetchval(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}"))
                read = plan_relations(plan)
                outside = sorted(f"{s}.{n}" for s, n in read if not self.allow.allows(s, n))
                if outside:
                    raise QueryRefused(
                        f"the plan reads tables off the allow-list: {', '.join(outside)} (allowed: {self.allow.describe()})"
                    )
                lineage = await self._lineage(conn, sql)
                statement = await conn.prepare(sql)
                columns = tuple(a.name for a in statement.get_attributes())
                if len(lineage) != len(columns):
                    raise QueryRefused(
                        "cannot tell which output columns derive from redacted columns: name the columns explicitly"
                    )
                cursor = await statement.cursor()
                records = await cursor.fetch(self.section.row_limit + 1)
        except asyncpg.QueryCanceledError:
            raise QueryFailed(
                f"statement timeout: cancelled after {self.section.statement_timeout_ms} ms", kind="timeout"
            ) from None
        except (asyncpg.ReadOnlySQLTransactionError, asyncpg.InsufficientPrivilegeError) as exc:
            raise QueryRefused(f"the database refused it: {exc.sqlstate}: {exc}") from None
        except asyncpg.PostgresError as exc:
            raise QueryFailed(f"{exc.sqlstate}: {self.redactor.text(str(exc), max_length=500)}") from None
        except (OSError, asyncpg.InterfaceError) as exc:
            raise QueryFailed(f"database connection failed: {type(exc).__name__}", kind="unavailable") from None
        rows = [self._redacted(columns, lineage, record) for record in records[: self.section.row_limit]]
        return QueryResult(
            columns=columns,
            rows=rows,
            truncated=len(records) > self.section.row_limit,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            relations=tuple(sorted(f"{s}.{n}" for s, n in read)),
        )

    async def _catalog(self, conn: asyncpg.Connection) -> dict[tuple[str, str], tuple[LineageColumn, ...]]:
        """The allow-listed relations' columns, in order, each marked with the redacted columns it derives from."""
        schemas = sorted({s for s, _ in self.allow.tables})
        names = sorted({n for _, n in self.allow.tables})
        rows = await conn.fetch(
            "SELECT n.nspname::text AS nspname, c.relname::text AS relname, c.relkind::text AS relkind, "
            "a.attname::text AS attname, CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS viewdef "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = ANY($1::text[]) AND c.relname = ANY($2::text[]) ORDER BY n.nspname, c.relname, a.attnum",
            schemas,
            names,
        )
        columns: dict[tuple[str, str], list[str]] = {}
        views: dict[tuple[str, str], str] = {}
        for r in rows:
            key = (r["nspname"], r["relname"])
            if key not in self.allow.tables:
                continue
            columns.setdefault(key, []).append(r["attname"])
            if r["viewdef"]:
                views[key] = r["viewdef"]
        catalog = {key: base_columns(key[1], cols, self._redact_columns) for key, cols in columns.items() if key not in views}
        # A view's columns derive from what its definition selects (views over views: a few rounds).
        pending = dict(views)
        for _ in range(4):
            for key, definition in list(pending.items()):
                try:
                    derived = output_lineage(definition, catalog=catalog, schema=key[0], redacted=self._redact_columns)
                except LineageUnknown:
                    continue
                named = base_columns(key[1], columns[key], self._redact_columns)
                catalog[key] = tuple(
                    LineageColumn(n.name, n.sources | (derived[i].sources if i < len(derived) else frozenset()))
                    for i, n in enumerate(named)
                )
                del pending[key]
        for key in pending:  # not followed: every column of the view counts as redacted
            catalog[key] = tuple(LineageColumn(n, frozenset({f"{key[1]}.*"})) for n in columns[key])
        return catalog

    async def _lineage(self, conn: asyncpg.Connection, sql: str) -> tuple[LineageColumn, ...]:
        """Which output columns of ``sql`` derive from redacted columns; refused when it cannot be followed."""
        try:
            return output_lineage(
                sql, catalog=await self._catalog(conn), schema=self.section.schema_name, redacted=self._redact_columns
            )
        except LineageUnknown as exc:
            raise QueryRefused(f"cannot follow column lineage ({exc.reason}); name the output columns explicitly") from None

    def _redacted(self, columns: Sequence[str], lineage: Sequence[LineageColumn], record: asyncpg.Record) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, derived, value in zip(columns, lineage, record.values(), strict=True):
            if value is not None and name.lower() in self._redact_columns:
                row[name] = f"[REDACTED:{name.lower()}]"
            elif value is not None and derived.sources:
                qualified = sorted(s for s in derived.sources if "." in s) or sorted(derived.sources)
                row[name] = f"[REDACTED:derived from {', '.join(qualified)}]"
            else:
                row[name] = self.redactor.value(_json_value(value), key=name)
        return row

    async def explain(self, sql: str) -> dict[str, Any]:
        """The generic plan of one SELECT/INSERT/UPDATE/DELETE (``$n`` parameters allowed), never executed.

        ``EXPLAIN`` without ``ANALYZE`` plans and stops, and it runs inside the read-only transaction, so
        even an ``UPDATE`` seen in the statistics is only planned. PostgreSQL 15 has no ``GENERIC_PLAN``
        option: the statement is prepared and explained with ``plan_cache_mode = force_generic_plan``.
        """
        shape = inspect_explainable(sql)
        denied = sorted(str(f) for f in shape.functions if function_denied(f.name))
        if denied:
            raise QueryRefused(f"not explaining a statement calling {', '.join(denied)}")
        name = f"medic_explain_{uuid.uuid4().hex[:12]}"
        try:
            async with self._read_only() as conn:
                await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                await conn.execute(f"PREPARE {name} AS {sql}")
                count = await conn.fetchval(
                    "SELECT cardinality(parameter_types) FROM pg_catalog.pg_prepared_statements WHERE name = $1", name
                )
                nulls = ", ".join(["NULL"] * int(count or 0))
                raw = await conn.fetchval(f"EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {name}{f'({nulls})' if nulls else ''}")
                await conn.execute(f"DEALLOCATE {name}")
        except asyncpg.QueryCanceledError:
            raise QueryFailed("statement timeout while planning", kind="timeout") from None
        except asyncpg.PostgresError as exc:
            raise QueryFailed(f"{exc.sqlstate}: {self.redactor.text(str(exc), max_length=500)}") from None
        except (OSError, asyncpg.InterfaceError) as exc:
            raise QueryFailed(f"database connection failed: {type(exc).__name__}", kind="unavailable") from None
        plan = json.loads(raw)
        top: dict[str, Any] = plan[0] if isinstance(plan, list) and plan else {}
        return top

    async def indexes(self, schema: str, table: str) -> list[IndexInfo]:
        """The indexes of one table with their key columns (catalog read, read-only)."""
        try:
            async with self._read_only() as conn:
                rows = await conn.fetch(
                    "SELECT i.relname AS name, pg_catalog.pg_get_indexdef(x.indexrelid) AS definition, "
                    "ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord) "
                    "JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
                    "ORDER BY k.ord) AS columns "
                    "FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid "
                    "JOIN pg_catalog.pg_class t ON t.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
                    "WHERE n.nspname = $1 AND t.relname = $2",
                    schema,
                    table,
                )
        except asyncpg.PostgresError as exc:
            raise QueryFailed(f"{exc.sqlstate}: {exc}") from None
        except (OSError, asyncpg.InterfaceError) as exc:
            raise QueryFailed(f"database connection failed: {type(exc).__name__}", kind="unavailable") from None
        return [IndexInfo(name=r["name"], columns=tuple(r["columns"]), definition=r["definition"]) for r in rows]
