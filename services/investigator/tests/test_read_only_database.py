"""The query_database tool against the real local PostgreSQL: reads allowed, everything else refused and audited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from medic_investigator.adapters.database import DatabaseSection, ReadOnlyDatabase
from medic_investigator.adapters.llm.tools import ToolBox
from medic_investigator.adapters.repo import Repository
from medic_investigator.domain.sql_guard import QueryRefused, inspect_select

from .dbfixtures import AppSchema, app_schema
from .helpers import make_repo


@pytest.fixture
async def app(postgres_url: str) -> AsyncIterator[AppSchema]:
    async with app_schema(postgres_url) as schema:
        yield schema


def _database(app: AppSchema, **overrides: object) -> ReadOnlyDatabase:
    section = DatabaseSection.model_validate(
        {
            "dsn_env": "APP_DATABASE_URL",
            "schema": app.schema,
            "allowed_tables": ["users", "practices", "leaky"],
            "row_limit": 5,
            "statement_timeout_ms": 300,
            **overrides,
        }
    )
    return ReadOnlyDatabase(section, dsn=app.dsn)


def _toolbox(tmp_path: Path, app: AppSchema) -> ToolBox:
    repo, _ = make_repo(tmp_path, {"app/main.py": "print('hi')\n"})
    return ToolBox(Repository(repo), database=_database(app))


async def _state(app: AppSchema) -> tuple[int, int, int, int | None]:
    conn = await asyncpg.connect(app.dsn)
    try:
        users = await conn.fetchval(f"SELECT count(*) FROM {app.schema}.users")
        practices = await conn.fetchval(f"SELECT count(*) FROM {app.schema}.practices")
        secrets = await conn.fetchval(f"SELECT count(*) FROM {app.schema}.secrets")
        seq = await conn.fetchval(f"SELECT last_value FROM {app.schema}.invoice_no WHERE is_called")
        return users, practices, secrets, seq
    finally:
        await conn.close()


async def test_an_allowed_query_returns_redacted_rows_up_to_the_row_limit(tmp_path: Path, app: AppSchema) -> None:
    tools = _toolbox(tmp_path, app)
    result = await tools.call(
        "query_database",
        {
            "sql": "SELECT u.id, u.email, u.name, u.api_token, p.name AS practice FROM users u "
            "LEFT JOIN practices p ON p.user_id = u.id WHERE u.email LIKE '%@example.com' ORDER BY u.id"
        },
    )
    assert result.status == "ok", result.error
    data = result.data
    assert data["row_count"] == 5 and data["truncated"] is True  # 40 users, limit 5
    assert data["columns"] == ["id", "email", "name", "api_token", "practice"]
    first = data["rows"][0]
    assert first["id"] == 1 and first["name"] == "User 1" and first["practice"] == "Practice 1"
    assert first["email"] == "[REDACTED:email]" and first["api_token"] == "[REDACTED:sensitive_key]"
    assert "user1@example.com" not in result.to_json() and "tok_" not in result.to_json()
    assert set(data["relations"]) == {f"{app.schema}.users", f"{app.schema}.practices"}
    assert [(q.status, q.rows) for q in tools.queries] == [("ok", 5)]


WRITES = [
    "INSERT INTO users (email, name) VALUES ('x@y.z', 'x')",
    "UPDATE users SET name = 'pwned'",
    "DELETE FROM practices",
    "DROP TABLE practices",
    "TRUNCATE users CASCADE",
    "CREATE TABLE stolen AS SELECT * FROM users",
    "SELECT * INTO stolen FROM users",
    "WITH gone AS (DELETE FROM practices RETURNING *) SELECT count(*) FROM gone",
    "WITH moved AS (UPDATE users SET name = 'x' RETURNING id) SELECT * FROM moved",
    "SELECT * FROM users FOR UPDATE",
    "SELECT * FROM users FOR SHARE SKIP LOCKED",
    "SELECT 1; DELETE FROM practices",
    "SELECT 1; SELECT 2",
    "COPY users TO STDOUT",
    "SELECT set_config('search_path', 'public', false)",
    "SELECT nextval('invoice_no')",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_sleep(5)",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT dblink_exec('dbname=test', 'DROP TABLE x')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT current_setting('data_directory')",
    "SELECT bump()",
    f"SELECT {'{schema}'}.bump()",
    "SELECT random() FROM users",
    "SELECT id FROM users WHERE id === 1",
    "BEGIN",
    "SET default_transaction_read_only = off",
    "DO $$ BEGIN DELETE FROM practices; END $$",
    "CALL some_procedure()",
    "VACUUM users",
    "LOCK TABLE users",
    "PREPARE p AS DELETE FROM practices",
]

OUTSIDE = [
    "SELECT * FROM secrets",
    "SELECT * FROM leaky",  # a view on the list over a table that is not: EXPLAIN sees the table
    "SELECT (SELECT value FROM secrets LIMIT 1) AS v FROM users",
    "SELECT * FROM users WHERE id IN (SELECT id FROM secrets)",
    "WITH s AS (SELECT * FROM secrets) SELECT * FROM s",
    "SELECT u.id FROM users u JOIN secrets s ON s.id = u.id",
    "SELECT * FROM pg_class",
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT * FROM pg_stat_activity",
    "SELECT * FROM information_schema.tables",
    "SELECT table_to_xml('secrets', true, false, '')",
    "SELECT query_to_xml('select * from secrets', true, false, '')",
    "SELECT peek()",  # a user-defined STABLE function reading a table off the list
    "SELECT obj_description('secrets'::regclass)",
    "SELECT * FROM public.users",
    "SELECT * FROM otherdb.public.users",
]


@pytest.mark.parametrize("group", ["writes", "outside"])
async def test_writes_side_effects_and_reads_outside_the_allow_list_are_refused_and_audited(
    tmp_path: Path, app: AppSchema, group: str
) -> None:
    tools = _toolbox(tmp_path, app)
    before = await _state(app)
    attempts = [sql.replace("{schema}", app.schema) for sql in (WRITES if group == "writes" else OUTSIDE)]
    results = [await tools.call("query_database", {"sql": sql}) for sql in attempts]
    assert await _state(app) == before  # nothing written, the sequence not advanced
    leaked = [(sql, r.data) for sql, r in zip(attempts, results, strict=True) if r.status == "ok"]
    assert leaked == []
    for sql, result in zip(attempts, results, strict=True):
        assert result.status == "refused" and result.error, sql
        assert "launch codes" not in result.to_json()
    # Every attempt is in the audit trail with its reason; refusals are also listed for the diagnosis evidence.
    assert [q.sql for q in tools.queries] == attempts
    assert all(q.status == "refused" and q.reason for q in tools.queries)
    assert len(tools.refusals) == len(attempts)


async def test_the_reasons_name_the_rule(tmp_path: Path, app: AppSchema) -> None:
    tools = _toolbox(tmp_path, app)
    view = await tools.call("query_database", {"sql": "SELECT * FROM leaky"})
    assert view.status == "refused" and f"{app.schema}.secrets" in (view.error or "")
    assert "plan reads tables off the allow-list" in (view.error or "")
    volatile = await tools.call("query_database", {"sql": "SELECT random()"})
    assert "volatile" in (volatile.error or "")
    user_fn = await tools.call("query_database", {"sql": "SELECT bump()"})
    assert "not (only) a built-in function" in (user_fn.error or "")
    operator = await tools.call("query_database", {"sql": "SELECT id FROM users WHERE id === 1"})
    assert "operator" in (operator.error or "")
    lock = await tools.call("query_database", {"sql": "SELECT * FROM users FOR UPDATE"})
    assert "row locks" in (lock.error or "")


async def test_a_slow_query_hits_the_statement_timeout(tmp_path: Path, app: AppSchema) -> None:
    tools = _toolbox(tmp_path, app)
    result = await tools.call(
        "query_database", {"sql": "SELECT count(*) FROM users a, users b, users c, users d, users e, practices f"}
    )
    assert result.status == "error" and "statement timeout" in (result.error or "")
    assert tools.queries[-1].status == "error" and "300 ms" in (tools.queries[-1].reason or "")


async def test_the_session_itself_is_read_only_even_past_the_guard(app: AppSchema) -> None:
    database = _database(app)
    async with database._read_only() as conn:
        assert await conn.fetchval("SHOW transaction_read_only") == "on"
        assert await conn.fetchval("SHOW statement_timeout") == "300ms"
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute(f"INSERT INTO {app.schema}.secrets (value) VALUES ('x')")


def test_the_guard_parses_with_postgresql_grammar() -> None:
    shape = inspect_select(
        "WITH recent AS (SELECT * FROM users) SELECT r.id, lower(r.email) FROM recent r JOIN app.orders o ON true"
    )
    assert {str(r) for r in shape.relations} == {"users", "app.orders"}
    assert {str(f) for f in shape.functions} == {"lower"}
    with pytest.raises(QueryRefused, match="not valid PostgreSQL"):
        inspect_select("SELEC * FROM users")
    with pytest.raises(QueryRefused, match="got 0"):
        inspect_select("  -- nothing\n")


async def test_without_a_database_section_the_tool_is_not_offered(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"app/main.py": "print('hi')\n"})
    tools = ToolBox(Repository(repo))
    assert "query_database" not in {spec["name"] for spec in tools.specs}
    result = await tools.call("query_database", {"sql": "SELECT 1"})
    assert result.status == "refused" and "unknown tool" in (result.error or "")


async def test_an_unreachable_database_is_an_error_result_not_an_exception(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path, {"app/main.py": "print('hi')\n"})
    section = DatabaseSection.model_validate({"dsn_env": "X", "allowed_tables": ["users"], "connect_timeout_s": 1})
    tools = ToolBox(Repository(repo), database=ReadOnlyDatabase(section, dsn="postgresql://postgres@127.0.0.1:1/none"))
    result = await tools.call("query_database", {"sql": "SELECT id FROM users"})
    assert result.status == "error" and "cannot connect" in (result.error or "")
    assert tools.queries[0].status == "error"


async def test_claude_queries_the_database_through_the_tool_loop_and_every_attempt_is_kept(
    tmp_path: Path, app: AppSchema
) -> None:
    from medic_investigator.job.diagnose import run_diagnosis
    from medic_testing.investigator.fake_messages_api import running, text_message, tool_use_message

    from .helpers import target_for
    from .test_claude import FINAL, TRIAGE_OK, _provider, _scenario

    repo, issue = await _scenario(tmp_path)
    script = [
        TRIAGE_OK,
        tool_use_message(
            [
                (
                    "query_database",
                    {
                        "sql": "SELECT u.id, u.email, count(p.id) AS practices FROM users u "
                        "LEFT JOIN practices p ON p.user_id = u.id WHERE u.id IN (1, 404) GROUP BY u.id, u.email"
                    },
                ),
                ("query_database", {"sql": "DELETE FROM practices WHERE user_id = 1"}),
                ("query_database", {"sql": "SELECT value FROM leaky"}),
            ]
        ),
        text_message(json.dumps(FINAL)),
    ]
    async with running(script) as fake:
        provider = _provider(fake.url)
        provider.database = _database(app)
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=provider)

    assert "query_database" in fake.requests[1].body["system"][0]["text"]
    offered = {t["name"]: t for t in fake.requests[1].body["tools"]}
    assert "query_database" in offered and f"{app.schema}.practices" in offered["query_database"]["description"]
    results = [json.loads(r["content"]) for r in fake.requests[2].body["messages"][-1]["content"] if r["type"] == "tool_result"]
    assert [r["status"] for r in results] == ["ok", "refused", "refused"]
    assert results[0]["data"]["rows"] == [{"id": 1, "email": "[REDACTED:email]", "practices": 1}]
    assert all("user1@example.com" not in r.raw and "launch codes" not in r.raw for r in fake.requests)
    assert [q.status for q in outcome.queries] == ["ok", "refused", "refused"]
    kinds = [e.kind for e in outcome.event.evidence]
    assert kinds.count("tool_refusal") == 2 and "sql" in kinds
