"""A small application schema in the real local PostgreSQL, unique per test and dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

__all__ = ["AppSchema", "app_schema", "plain_dsn"]


def plain_dsn(url: str) -> str:
    """An asyncpg DSN from the SQLAlchemy-style URL the test plugin hands out."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


@dataclass(frozen=True, slots=True)
class AppSchema:
    """Where the application's tables live."""

    dsn: str
    schema: str


_TABLES = """
CREATE SCHEMA {s};
CREATE TABLE {s}.users (id serial PRIMARY KEY, email text NOT NULL, name text NOT NULL, api_token text);
CREATE TABLE {s}.practices (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES {s}.users(id), name text NOT NULL);
CREATE TABLE {s}.secrets (id serial PRIMARY KEY, value text NOT NULL);
CREATE VIEW {s}.leaky AS SELECT id, value FROM {s}.secrets;
CREATE SEQUENCE {s}.invoice_no;
CREATE FUNCTION {s}.bump() RETURNS int LANGUAGE sql VOLATILE AS
  'INSERT INTO {s}.secrets(value) VALUES (''written'') RETURNING id';
CREATE FUNCTION {s}.peek() RETURNS text LANGUAGE sql STABLE AS 'SELECT value FROM {s}.secrets LIMIT 1';
CREATE FUNCTION {s}.eq_bump(int, int) RETURNS boolean LANGUAGE sql VOLATILE AS 'SELECT $1 = $2';
CREATE OPERATOR {s}.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = {s}.eq_bump);
INSERT INTO {s}.users (email, name, api_token)
  SELECT 'user' || g || '@example.com', 'User ' || g, 'tok_' || md5(g::text) FROM generate_series(1, 40) g;
INSERT INTO {s}.practices (user_id, name) SELECT g, 'Practice ' || g FROM generate_series(1, 20) g;
INSERT INTO {s}.secrets (value) VALUES ('the launch codes');
"""


@asynccontextmanager
async def app_schema(postgres_url: str) -> AsyncIterator[AppSchema]:
    """Create the schema (users, practices, secrets, a view over secrets, a sequence, side-effect functions)."""
    dsn = plain_dsn(postgres_url)
    schema = f"app_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_TABLES.format(s=schema))
        yield AppSchema(dsn=dsn, schema=schema)
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()
