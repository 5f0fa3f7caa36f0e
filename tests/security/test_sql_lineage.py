"""Issue 12, item 6: renaming or transforming a redacted column never returns its raw values.

Against the real local PostgreSQL: a ``users`` table whose ``email`` and ``api_token`` columns are
redacted, a ``practices`` table that references it, and a view that renames a redacted column.
Every query below is allowed by the read-only guard and comes back with rows in which the derived
values are replaced by a marker: no row carries a token or an address, whatever the query did to
it. (A query whose lineage cannot be followed is refused; the last test shows one.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from medic_investigator.adapters.database import DatabaseSection, ReadOnlyDatabase
from medic_investigator.domain.sql_guard import QueryRefused

_SCHEMA = """
CREATE SCHEMA {s};
CREATE TABLE {s}.users (id serial PRIMARY KEY, email text NOT NULL, name text NOT NULL, api_token text);
CREATE TABLE {s}.practices (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES {s}.users(id), name text NOT NULL);
CREATE VIEW {s}.user_keys AS SELECT id, api_token AS k FROM {s}.users;
INSERT INTO {s}.users (email, name, api_token)
  SELECT 'user' || g || '@example.org', 'User ' || g, 'tok' || md5(g::text) FROM generate_series(1, 5) g;
INSERT INTO {s}.practices (user_id, name) SELECT g, 'Practice ' || g FROM generate_series(1, 5) g;
"""


@dataclass(frozen=True, slots=True)
class App:
    database: ReadOnlyDatabase
    tokens: tuple[str, ...]
    emails: tuple[str, ...]


@pytest.fixture
async def app(postgres_url: str) -> AsyncIterator[App]:
    dsn = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    schema = f"lin_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_SCHEMA.format(s=schema))
        rows = await conn.fetch(f"SELECT email, api_token FROM {schema}.users")
        section = DatabaseSection.model_validate(
            {
                "dsn_env": "APP_DATABASE_URL",
                "schema": schema,
                "allowed_tables": ["users", "practices", "user_keys"],
                "row_limit": 20,
                "statement_timeout_ms": 5000,
                "redact_columns": ["email", "api_token"],
            }
        )
        yield App(
            ReadOnlyDatabase(section, dsn=dsn),
            tuple(r["api_token"] for r in rows),
            tuple(r["email"] for r in rows),
        )
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


def _leaks(text: str, app: App) -> list[str]:
    """Raw values (or their recognisable middles) that appear in ``text``."""
    needles = [t[3:15] for t in app.tokens] + [e.split("@")[0] for e in app.emails]
    return [n for n in needles if n in text or n.upper() in text or n[::-1] in text]


TRANSFORMS = {
    "alias": "SELECT api_token AS x FROM users",
    "function": "SELECT upper(api_token) FROM users",
    "replace the at sign": "SELECT replace(email, '@', ' at ') FROM users",
    "cast": "SELECT api_token::varchar(64) AS t FROM users",
    "concatenation": "SELECT 'token: ' || api_token AS line FROM users",
    "case": "SELECT CASE WHEN id > 0 THEN api_token ELSE name END AS v FROM users",
    "substring": "SELECT substr(api_token, 4, 12), left(email, 6) FROM users",
    "reverse": "SELECT reverse(api_token) FROM users",
    "coalesce": "SELECT coalesce(api_token, name) FROM users",
    "scalar subquery": "SELECT p.name, (SELECT u.api_token FROM users u WHERE u.id = p.user_id) AS t FROM practices p",
    "derived table": "SELECT s.x FROM (SELECT email AS x FROM users) s",
    "cte": "WITH c AS (SELECT api_token AS t FROM users) SELECT t FROM c",
    "cte column list": "WITH c(a, b) AS (SELECT id, email FROM users) SELECT b FROM c",
    "recursive cte": (
        "WITH RECURSIVE r(n, t) AS (SELECT 1, api_token FROM users WHERE id = 1 "
        "UNION ALL SELECT n + 1, t FROM r WHERE n < 3) SELECT n, t FROM r"
    ),
    "union": "SELECT name FROM users UNION ALL SELECT api_token FROM users",
    "select star": "SELECT * FROM users",
    "qualified star": "SELECT u.* FROM users u",
    "star over a join": "SELECT * FROM practices p JOIN users u ON u.id = p.user_id",
    "join using": "SELECT * FROM practices JOIN users USING (id)",
    "table alias column list": "SELECT a FROM users AS t(i, e, n, a)",
    "row_to_json": "SELECT row_to_json(u) FROM users u",
    "to_jsonb then json op": "SELECT d->>'api_token' AS t FROM (SELECT to_jsonb(u) AS d FROM users u) s",
    "json_build_object": "SELECT json_build_object('e', email) AS j FROM users",
    "string_agg": "SELECT string_agg(api_token, ',') FROM users",
    "array_agg": "SELECT array_agg(email) FROM users",
    "max aggregate": "SELECT max(api_token) FROM users",
    "window function": "SELECT first_value(api_token) OVER (ORDER BY id) FROM users",
    "array constructor": "SELECT ARRAY[api_token, name] FROM users",
    "array subquery": "SELECT ARRAY(SELECT email FROM users) AS emails",
    "lateral unnest": "SELECT v FROM users, LATERAL unnest(ARRAY[api_token]) AS v",
    "row constructor": "SELECT ROW(id, api_token) FROM users",
    "encode": "SELECT encode(convert_to(api_token, 'UTF8'), 'base64') FROM users",
    "format": "SELECT format('%s/%s', name, email) FROM users",
    "view renaming a redacted column": "SELECT k FROM user_keys",
    "view then transform": "SELECT lower(k) AS k2 FROM user_keys",
    "values joined": "SELECT v.column1, u.email FROM (VALUES (1)) v JOIN users u ON u.id = v.column1",
    "table statement": "TABLE users",
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
async def test_a_transformed_redacted_column_never_returns_raw_values(app: App, name: str) -> None:
    result = await app.database.query(TRANSFORMS[name])
    text = json.dumps(result.as_data())
    assert result.rows, "the query returned rows"
    assert not _leaks(text, app), _leaks(text, app)
    assert "[REDACTED:" in text


def test_there_are_at_least_twelve_transformations() -> None:
    assert len(TRANSFORMS) >= 12


async def test_columns_that_derive_from_nothing_redacted_stay_readable(app: App) -> None:
    result = await app.database.query(
        "SELECT u.id, upper(u.name) AS shout, count(p.id) AS practices, count(*) AS n "
        "FROM users u LEFT JOIN practices p ON p.user_id = u.id GROUP BY u.id, u.name ORDER BY u.id"
    )
    assert result.rows[0] == {"id": 1, "shout": "USER 1", "practices": 1, "n": 1}


async def test_only_the_derived_column_of_a_mixed_row_is_redacted(app: App) -> None:
    result = await app.database.query("SELECT id, name, md5(api_token) AS h, name || email AS mixed FROM users ORDER BY id")
    row = result.rows[0]
    assert row["id"] == 1 and row["name"] == "User 1"
    assert row["h"].startswith("[REDACTED:derived from users.api_token")
    assert row["mixed"].startswith("[REDACTED:derived from users.email")


async def test_a_set_returning_function_under_a_star_is_refused_not_guessed(app: App) -> None:
    with pytest.raises(QueryRefused, match="lineage"):
        await app.database.query("SELECT * FROM users, LATERAL unnest(ARRAY[api_token]) AS v")
