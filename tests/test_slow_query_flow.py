"""Acceptance: a slow query seeded in the real local PostgreSQL becomes a performance issue (watcher) and an
index proposal awaiting approval (investigator), with nothing written to the application's database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from medic_contracts import ApprovalKind, FixStrategy, IssueType, MedicConfig, Producer
from medic_investigator.adapters.database import DatabaseSection, ReadOnlyDatabase
from medic_investigator.job.slow_query import diagnose_slow_query
from medic_testing.watcher.slowdb import run_slow_queries, slow_table
from medic_watcher.adapters.sources.postgres import PostgresStatsPoller
from medic_watcher.config import PostgresSource
from medic_watcher.domain.normalize import Normaliser
from medic_watcher.domain.templates import TemplateMiner
from medic_watcher.job.detect import detect_observed

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


async def test_a_seeded_slow_query_yields_a_performance_issue_and_an_index_proposal_awaiting_approval(
    postgres_url: str,
) -> None:
    async with slow_table(postgres_url) as table:
        source = PostgresSource.model_validate(
            {"kind": "postgres", "name": "db", "schemas": [table.schema], "slow_queries": {"seq_scan_rows": 10_000}}
        )
        poller = PostgresStatsPoller(source, dsn=table.dsn, service="web", normaliser=Normaliser())
        learned = await poller.poll(None, now=NOW)
        async with run_slow_queries(table, times=6):
            polled = await poller.poll(learned.cursor, now=NOW + timedelta(minutes=5))
        _, issues = detect_observed(
            polled.events,
            target="shop",
            states={},
            config=MedicConfig(),
            miner=TemplateMiner(),
            producer=Producer(service="watcher", instance="test"),
            now=NOW + timedelta(minutes=5),
        )
        assert len(issues) == 1
        issue = issues[0]
        assert issue.issue_type is IssueType.PERFORMANCE and issue.tags["medic.slow_query"] == "true"

        database = ReadOnlyDatabase(
            DatabaseSection.model_validate({"dsn_env": "APP_DATABASE_URL", "schema": table.schema, "allowed_tables": ["orders"]}),
            dsn=table.dsn,
        )
        outcome = await diagnose_slow_query(
            issue, database=database, producer=Producer(service="investigator", instance="test"), now=NOW
        )
        conn = await asyncpg.connect(table.dsn)
        try:
            indexes = await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = $1", table.schema)
        finally:
            await conn.close()

    diagnosis, approval = outcome.event, outcome.approval
    assert diagnosis.fix_strategy is FixStrategy.INDEX_PROPOSAL and diagnosis.needs_human
    assert diagnosis.issue_id == issue.issue_id and diagnosis.causation_id == issue.event_id
    assert diagnosis.affected_file is not None and diagnosis.affected_file.startswith("supabase/migrations/")
    assert approval is not None and approval.kind is ApprovalKind.FIX and approval.issue_id == issue.issue_id
    assert f"on {table.schema}.orders (customer_email)" in approval.diff and "protected path" in approval.reason
    assert [r["indexname"] for r in indexes] == ["orders_pkey"]  # proposed, not applied
