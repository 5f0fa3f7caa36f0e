"""Slow queries: budgets and baselines (pure), the PostgreSQL statistics source on the real local server, and
Supabase's query performance through a local server speaking the Management API's database query endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from medic_contracts import IssueType, MedicConfig, Producer
from medic_testing.watcher.slowdb import SlowTable, run_slow_queries, slow_table
from medic_watcher.adapters.sources.postgres import PostgresStatsPoller
from medic_watcher.adapters.sources.supabase import SupabasePoller
from medic_watcher.config import PostgresSource, SupabaseSource
from medic_watcher.domain.normalize import Normaliser
from medic_watcher.domain.slow_queries import (
    ActiveQuery,
    QueryStat,
    SlowQueryBudget,
    SlowQueryState,
    TableScans,
    judge_active,
    judge_statements,
    judge_tables,
    mask_literals,
)
from medic_watcher.domain.templates import TemplateMiner
from medic_watcher.job.detect import detect_observed

from .fakes import serve, supabase_app

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BUDGET = SlowQueryBudget(budget_ms=100.0, regression_factor=3.0, min_calls=5, seq_scan_rows=10_000, min_table_rows=10_000)


def _stat(calls: int, total_ms: float, query_id: str = "42") -> QueryStat:
    return QueryStat(query_id=query_id, query="SELECT * FROM orders WHERE customer_email = $1", calls=calls, total_ms=total_ms)


def test_a_mean_rising_past_its_baseline_is_a_regression_and_does_not_move_the_baseline() -> None:
    state = SlowQueryState()
    assert judge_statements(state, [_stat(100, 200.0)], BUDGET) == []  # 2 ms per call: the first baseline
    assert judge_statements(state, [_stat(200, 400.0)], BUDGET) == []  # 2 ms again
    assert state.statements["42"].baseline_ms == pytest.approx(2.0)
    findings = judge_statements(state, [_stat(220, 400.0 + 20 * 30.0)], BUDGET)  # 30 ms per call, 15x
    assert [f.kind for f in findings] == ["regression"] and findings[0].mean_ms == pytest.approx(30.0)
    assert "15.0x its baseline of 2.0 ms" in findings[0].description
    assert state.statements["42"].baseline_ms == pytest.approx(2.0)  # a regressed interval teaches nothing
    assert judge_statements(state, [_stat(223, 1000.0 + 3 * 30.0)], BUDGET) == []  # too few calls to judge


def test_a_mean_over_the_budget_is_slow_from_the_first_sight_and_a_reset_starts_over() -> None:
    state = SlowQueryState()
    findings = judge_statements(state, [_stat(10, 2500.0)], BUDGET)  # 250 ms per call, budget 100
    assert [f.kind for f in findings] == ["budget"] and "budget 100 ms" in findings[0].description
    assert judge_statements(state, [_stat(10, 30.0)], BUDGET) == []  # statistics reset: counters start over
    assert state.statements["42"].calls == 10
    # Small absolute changes on very fast statements are noise, not regressions.
    quick = SlowQueryState()
    judge_statements(quick, [_stat(100, 10.0)], BUDGET)
    assert judge_statements(quick, [_stat(200, 10.0 + 100 * 0.5)], BUDGET) == []


def test_large_sequential_scans_of_a_big_table_are_flagged_with_the_query_behind_them() -> None:
    state = SlowQueryState()
    first = [TableScans("public", "orders", seq_scan=10, seq_tup_read=100, idx_scan=0, live_rows=30_000)]
    assert judge_tables(state, first, BUDGET) == []  # learning the counters
    grown = [TableScans("public", "orders", seq_scan=16, seq_tup_read=100 + 6 * 30_000, idx_scan=0, live_rows=30_000)]
    findings = judge_tables(state, grown, BUDGET, recent_queries={"public.orders": "SELECT * FROM orders WHERE a = $1"})
    assert len(findings) == 1 and findings[0].table == "public.orders" and findings[0].rows_per_scan == 30_000
    assert findings[0].query == "SELECT * FROM orders WHERE a = $1"
    small = [TableScans("public", "tiny", seq_scan=0, seq_tup_read=0, idx_scan=0, live_rows=50)]
    judge_tables(state, small, BUDGET)
    assert judge_tables(state, [TableScans("public", "tiny", 100, 5000, 0, 50)], BUDGET) == []


def test_statements_running_past_the_budget_are_slow_and_literals_are_masked() -> None:
    findings = judge_active(
        [ActiveQuery("SELECT * FROM orders WHERE customer_email = 'bob@example.com' AND total > 10.5", 2500.0)], BUDGET
    )
    assert findings[0].kind == "running" and findings[0].query == "SELECT * FROM orders WHERE customer_email = $1 AND total > $2"
    assert judge_active([ActiveQuery("SELECT 1", 50.0)], BUDGET) == []
    assert mask_literals("SELECT a1, $1, 'it''s', $$x$$ FROM t2 WHERE b = 3 LIMIT 10") == (
        "SELECT a1, $1, $3, $2 FROM t2 WHERE b = $4 LIMIT $5"
    )


@pytest.fixture
async def seeded(postgres_url: str) -> AsyncIterator[SlowTable]:
    async with slow_table(postgres_url) as table:
        yield table


async def test_the_postgres_source_raises_a_performance_issue_for_a_seeded_slow_query(seeded: SlowTable) -> None:
    config = PostgresSource.model_validate(
        {
            "kind": "postgres",
            "name": "db",
            "schemas": [seeded.schema],
            "slow_queries": {"seq_scan_rows": 10_000, "min_table_rows": 10_000, "min_calls": 5},
        }
    )
    poller = PostgresStatsPoller(config, dsn=seeded.dsn, service="web", normaliser=Normaliser())
    first = await poller.poll(None, now=NOW)
    assert first.events == [] and f"{seeded.schema}.orders" in first.cursor["tables"]
    assert poller._statements is False  # pg_stat_statements is not preloaded here: the statistics views stand in
    async with run_slow_queries(seeded, times=6):
        second = await poller.poll(first.cursor, now=NOW + timedelta(minutes=5))
    assert len(second.events) == 1
    event = second.events[0]
    assert event.tags["medic.slow_query"] == "true" and event.tags["table"] == f"{seeded.schema}.orders"
    assert event.tags["query"] == f"SELECT id, total FROM {seeded.schema}.orders WHERE customer_email = $1"
    assert "@example.com" not in json.dumps(event.tags) and "@example.com" not in event.message
    _, published = detect_observed(
        second.events,
        target="shop",
        states={},
        config=MedicConfig(),
        miner=TemplateMiner(),
        producer=Producer(service="watcher", instance="test"),
        now=NOW,
    )
    assert len(published) == 1 and published[0].issue_type is IssueType.PERFORMANCE
    assert published[0].tags["query"] == event.tags["query"] and published[0].source == "postgres"
    # The next poll without new scans raises nothing: counters moved on with the cursor.
    third = await poller.poll(second.cursor, now=NOW + timedelta(minutes=10))
    assert third.events == []


async def test_a_missing_dsn_is_a_clear_source_error() -> None:
    from medic_watcher.adapters.sources.base import SourceError

    config = PostgresSource.model_validate({"kind": "postgres", "dsn_env": "NOT_SET_ANYWHERE"})
    poller = PostgresStatsPoller(config, dsn="", service="web", normaliser=Normaliser())
    with pytest.raises(SourceError, match=r"\$NOT_SET_ANYWHERE is not set"):
        await poller.poll(None, now=NOW)


async def test_supabase_query_performance_regressions_become_slow_query_events() -> None:
    def row(calls: int, total: float) -> dict[str, Any]:
        return {
            "query_id": "-7781",
            "query": "select * from practices where owner = $1",
            "calls": calls,
            "total_ms": total,
            "rows": calls,
        }

    app = supabase_app(
        tables={}, token="sbp_test", statements=[[row(1000, 3000.0)], [row(2000, 6000.0)], [row(2100, 6000.0 + 100 * 40.0)]]
    )
    with serve(app) as url:
        config = SupabaseSource.model_validate(
            {
                "kind": "supabase",
                "api_url": url,
                "project_ref": "abcd",
                "tables": ["postgres_logs"],
                "query_performance": True,
                "slow_queries": {"budget_ms": 250},
            }
        )
        poller = SupabasePoller(config, token="sbp_test", service="web", normaliser=Normaliser())
        cursor: Any = None
        events = []
        for n in range(3):
            result = await poller.poll(cursor, now=NOW + timedelta(minutes=5 * n))
            cursor, events = result.cursor, result.events
            assert "queries" in cursor
        await poller.close()
    assert len(events) == 1 and events[0].source == "supabase" and events[0].tags["medic.slow_query"] == "true"
    assert events[0].tags["mean_ms"] == "40.0" and events[0].tags["baseline_ms"] == "3.0"
    assert events[0].tags["query"] == "select * from practices where owner = $1"
    sent = app.state.database_queries
    assert len(sent) == 3 and sent[0]["read_only"] is True and "pg_stat_statements" in sent[0]["query"]


async def test_pg_stat_statements_installed_but_not_preloaded_falls_back_or_fails_clearly(seeded: SlowTable) -> None:
    import asyncpg

    from medic_watcher.adapters.sources.base import SourceError

    conn = await asyncpg.connect(seeded.dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        preloaded = "pg_stat_statements" in (await conn.fetchval("SHOW shared_preload_libraries"))
        try:
            base = {"kind": "postgres", "name": "db", "schemas": [seeded.schema]}
            auto = PostgresStatsPoller(
                PostgresSource.model_validate(base), dsn=seeded.dsn, service="web", normaliser=Normaliser()
            )
            result = await auto.poll(None, now=NOW)
            assert auto._statements is preloaded
            if preloaded:  # pragma: no cover - a server configured with it: statements are read directly
                assert "statements" in result.cursor
                return
            assert f"{seeded.schema}.orders" in result.cursor["tables"]
            forced = PostgresStatsPoller(
                PostgresSource.model_validate({**base, "statistics": "pg_stat_statements"}),
                dsn=seeded.dsn,
                service="web",
                normaliser=Normaliser(),
            )
            with pytest.raises(SourceError, match="pg_stat_statements"):
                await forced.poll(None, now=NOW)
        finally:
            await conn.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
    finally:
        await conn.close()
