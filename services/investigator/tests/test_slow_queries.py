"""Slow-query issues: a generic EXPLAIN in the real PostgreSQL, then an index proposal that waits for a human."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from medic_contracts import (
    ApprovalKind,
    FixStrategy,
    Frequency,
    IssueDetected,
    IssueType,
    Producer,
    Severity,
)
from medic_investigator.adapters.database import DatabaseSection, ReadOnlyDatabase
from medic_investigator.domain.slow_query import SeqScan, filter_columns, index_proposal
from medic_investigator.job.slow_query import diagnose_slow_query

from .dbfixtures import AppSchema, app_schema

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
PRODUCER = Producer(service="investigator", instance="test")


@pytest.fixture
async def app(postgres_url: str) -> AsyncIterator[AppSchema]:
    async with app_schema(postgres_url) as schema:
        conn = await asyncpg.connect(schema.dsn)
        try:
            await conn.execute(
                f"CREATE TABLE {schema.schema}.orders (id serial PRIMARY KEY, customer_email text NOT NULL, "
                "status text NOT NULL, total numeric NOT NULL, created_at timestamptz NOT NULL DEFAULT now());"
                f"INSERT INTO {schema.schema}.orders (customer_email, status, total) "
                "SELECT 'c' || (g % 5000) || '@example.com', CASE WHEN g % 10 = 0 THEN 'open' ELSE 'paid' END, g "
                "FROM generate_series(1, 20000) g;"
                f"ANALYZE {schema.schema}.orders"
            )
        finally:
            await conn.close()
        yield schema


def slow_issue(query: str, *, target: str = "shop") -> IssueDetected:
    return IssueDetected(
        producer=Producer(service="watcher", instance="test"),
        issue_id="iss_slow",
        target=target,
        service="web",
        severity=Severity.P3,
        issue_type=IssueType.PERFORMANCE,
        title="slow query: 180 ms per call",
        message=f"slow query: mean 180.0 ms per call over 40 calls (baseline 2.0 ms, budget 100 ms): {query}",
        fingerprint="fp_slow",
        frequency=Frequency(count=1, window_seconds=300, total=1),
        first_seen=NOW,
        last_seen=NOW,
        source="postgres",
        tags={"medic.slow_query": "true", "query": query, "mean_ms": "180.0"},
    )


def _database(app: AppSchema) -> ReadOnlyDatabase:
    section = DatabaseSection.model_validate({"dsn_env": "X", "schema": app.schema, "allowed_tables": ["orders"]})
    return ReadOnlyDatabase(section, dsn=app.dsn)


async def test_a_sequential_scan_becomes_an_index_proposal_awaiting_approval(app: AppSchema) -> None:
    query = f"SELECT id, total FROM {app.schema}.orders WHERE customer_email = $1 AND created_at > $2 ORDER BY created_at DESC"
    outcome = await diagnose_slow_query(slow_issue(query), database=_database(app), producer=PRODUCER, now=NOW)
    event, approval, proposal = outcome.event, outcome.approval, outcome.proposal
    assert proposal is not None and approval is not None
    assert proposal.columns == ("customer_email", "created_at")  # equality first, then the range
    assert (
        proposal.sql
        == f"create index if not exists orders_customer_email_created_at_idx on {app.schema}.orders (customer_email, created_at);"
    )
    assert proposal.migration_path == "supabase/migrations/20261127100000_medic_index_orders_customer_email_created_at.sql"
    assert event.fix_strategy is FixStrategy.INDEX_PROPOSAL and event.needs_human
    assert event.affected_file == proposal.migration_path and proposal.sql in (event.fix_hint or "")
    assert any(e.kind == "sql" and "Seq Scan" in (e.detail or "") for e in event.evidence)
    assert approval.kind is ApprovalKind.FIX and approval.issue_id == "iss_slow" and approval.causation_id == event.event_id
    assert "protected path" in approval.reason and approval.diff_hash == proposal.diff_hash
    assert approval.diff.startswith("diff --git a/supabase/migrations/") and "+create index if not exists" in approval.diff
    # Nothing was executed: no index exists, and the table is as it was.
    conn = await asyncpg.connect(app.dsn)
    try:
        indexes = await conn.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = 'orders'", app.schema
        )
    finally:
        await conn.close()
    assert indexes == 1  # the primary key only


async def test_an_existing_index_or_a_write_is_never_run_and_no_proposal_is_made(app: AppSchema) -> None:
    conn = await asyncpg.connect(app.dsn)
    try:
        await conn.execute(f"CREATE INDEX orders_status_idx ON {app.schema}.orders (status)")
    finally:
        await conn.close()
    database = _database(app)
    # A write seen in the statistics is planned, never run: the rows stay.
    update = f"UPDATE {app.schema}.orders SET status = 'void' WHERE customer_email = $1"
    outcome = await diagnose_slow_query(slow_issue(update), database=database, producer=PRODUCER, now=NOW)
    assert outcome.proposal is not None and outcome.proposal.columns == ("customer_email",)
    conn = await asyncpg.connect(app.dsn)
    try:
        assert await conn.fetchval(f"SELECT count(*) FROM {app.schema}.orders WHERE status = 'void'") == 0
    finally:
        await conn.close()
    indexed = f"SELECT * FROM {app.schema}.orders WHERE status = $1"
    plain = await diagnose_slow_query(slow_issue(indexed), database=database, producer=PRODUCER, now=NOW)
    assert plain.approval is None and plain.event.fix_strategy is FixStrategy.NEEDS_HUMAN and plain.event.needs_human
    refused = await diagnose_slow_query(
        slow_issue(f"SELECT 1; DROP TABLE {app.schema}.orders"), database=database, producer=PRODUCER, now=NOW
    )
    assert refused.approval is None and "EXPLAIN failed" in refused.event.root_cause
    nothing = await diagnose_slow_query(slow_issue(indexed), database=None, producer=PRODUCER, now=NOW)
    assert nothing.approval is None and "[database]" in nothing.event.root_cause


def test_filter_columns_reads_plain_columns_only() -> None:
    def scan(text: str) -> SeqScan:
        return SeqScan(schema="public", table="users", alias="users", filter=text, total_cost=100.0, plan_rows=1.0)

    assert filter_columns(scan("(users.email = $1)")) == ("email",)
    assert filter_columns(scan("((users.email)::text = $1)")) == ("email",)
    assert filter_columns(scan("((users.created_at > $2) AND (users.org_id = $1))")) == ("org_id", "created_at")
    assert filter_columns(scan("(lower(users.email) = $1)")) == ()
    assert (
        index_proposal(
            scan("(users.email = $1)"), existing=[("email", "name")], migrations_dir="supabase/migrations", now=NOW, query="q"
        )
        is None
    )
