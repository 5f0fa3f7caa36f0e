"""Each HTTP source against a local server speaking its documented API; a second poll repeats nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI, Response

from medic_watcher.adapters.sources.base import SourceError
from medic_watcher.adapters.sources.healthcheck import HealthChecker
from medic_watcher.adapters.sources.prometheus import PrometheusPoller
from medic_watcher.adapters.sources.sentry import SentryPoller
from medic_watcher.adapters.sources.supabase import SupabasePoller
from medic_watcher.adapters.sources.vercel import VercelPoller
from medic_watcher.config import HealthcheckSource, PrometheusSource, SentrySource, SupabaseSource, VercelSource
from medic_watcher.domain.normalize import Normaliser

from .conftest import shared_data
from .fakes import prometheus_app, sentry_app, serve, supabase_app, vercel_app

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def sentry_event(i: int, minute: int) -> dict[str, object]:
    return {
        "eventID": f"ev{i:04d}",
        "dateCreated": (NOW - timedelta(minutes=minute)).isoformat().replace("+00:00", "Z"),
        "platform": "node",
        "exception": {"values": [{"type": "TypeError", "value": "x is undefined",
                                  "stacktrace": {"frames": [{"filename": "src/app.ts", "function": "launch", "lineno": 3}]}}]},
        "user": {"id": f"u{i % 3}"},
    }  # fmt: skip


async def test_sentry_poll_reads_every_page_once_and_the_cursor_prevents_repeats() -> None:
    events = {"101": [sentry_event(i, 30 - i) for i in range(5)], "102": [sentry_event(100 + i, 10 - i) for i in range(3)]}
    issues = [
        {"id": "101", "lastSeen": (NOW - timedelta(minutes=26)).isoformat(), "permalink": "https://sentry.example/issues/101/"},
        {"id": "102", "lastSeen": (NOW - timedelta(minutes=8)).isoformat(), "permalink": "https://sentry.example/issues/102/"},
        {"id": "103", "lastSeen": (NOW - timedelta(days=3)).isoformat()},
    ]
    app = sentry_app(issues=issues, events=events, token="tok")
    with serve(app) as url:
        config = SentrySource(kind="sentry", name="sentry", api_url=url, org="acme", project="shop")
        poller = SentryPoller(config, token="tok", service="web", normaliser=Normaliser())
        try:
            first = await poller.poll(None, now=NOW)
            assert sorted(e.source_event_id or "" for e in first.events) == sorted(
                [f"ev{i:04d}" for i in range(5)] + [f"ev{100 + i:04d}" for i in range(3)]
            )
            assert all(e.links and e.links[0].url.startswith("https://sentry.example/issues/") for e in first.events)
            again = await poller.poll(first.cursor, now=NOW)
            assert again.events == []
            events["102"].append(sentry_event(200, 1))
            issues[1]["lastSeen"] = (NOW - timedelta(minutes=1)).isoformat()
            third = await poller.poll(again.cursor, now=NOW)
            assert [e.source_event_id for e in third.events] == ["ev0200"]
        finally:
            await poller.close()


async def test_sentry_bad_token_is_a_source_error() -> None:
    with serve(sentry_app(issues=[], events={}, token="right")) as url:
        config = SentrySource(kind="sentry", api_url=url, org="acme", project="shop")
        poller = SentryPoller(config, token="wrong", service="web", normaliser=Normaliser())
        try:
            with pytest.raises(SourceError, match="401"):
                await poller.poll(None, now=NOW)
        finally:
            await poller.close()


async def test_vercel_runtime_logs_are_polled_from_the_latest_production_deployment_without_repeats() -> None:
    rows = [
        {"level": "error", "message": "TypeError: boom\n    at handler (/var/task/api/launch.js:1:10)", "rowId": f"r{i}",
         "source": "serverless", "timestampInMs": int(NOW.timestamp() * 1000) - 60_000 + i, "domain": "shop.example",
         "messageTruncated": False, "requestMethod": "POST", "requestPath": "/api/campaigns/launch", "responseStatusCode": 500}
        for i in range(4)
    ]  # fmt: skip
    with serve(vercel_app(rows=rows, token="vt")) as url:
        config = VercelSource(kind="vercel", api_url=url, project_id="prj_1")
        poller = VercelPoller(config, token="vt", service="web", normaliser=Normaliser())
        try:
            first = await poller.poll(None, now=NOW)
            assert len(first.events) == 4
            event = first.events[0]
            assert event.exception is not None and event.exception.type == "TypeError"
            assert event.request is not None and event.request.status == 500 and event.request.route == "/api/campaigns/launch"
            assert (await poller.poll(first.cursor, now=NOW)).events == []
        finally:
            await poller.close()


async def test_supabase_logs_are_queried_per_table_with_a_time_window() -> None:
    shaped = json.loads((shared_data() / "log-formats" / "supabase-logs-explorer-rows.json").read_text())
    base_us = int((NOW - timedelta(minutes=2)).timestamp() * 1e6)
    tables = {}
    for offset, table in enumerate(("postgres_logs", "edge_logs", "function_logs", "auth_logs")):
        row = dict(shaped[table][0])
        row["timestamp"] = base_us + offset
        tables[table] = [row]
    app = supabase_app(tables=tables, token="st")
    with serve(app) as url:
        config = SupabaseSource(kind="supabase", api_url=url, project_ref="abc")
        poller = SupabasePoller(config, token="st", service="web", normaliser=Normaliser())
        try:
            first = await poller.poll({"end": (NOW - timedelta(minutes=5)).isoformat()}, now=NOW)
            assert {e.tags["table"] for e in first.events} == set(tables)
            pg = next(e for e in first.events if e.tags["table"] == "postgres_logs")
            assert pg.exception is not None and pg.exception.type == "PostgresError[42P01]" and pg.is_problem
            fn = next(e for e in first.events if e.tags["table"] == "function_logs")
            assert fn.exception is not None and fn.exception.type == "TypeError" and fn.frames
            assert all("from" in q for q in app.state.queries)
            assert (await poller.poll(first.cursor, now=NOW)).events == []
        finally:
            await poller.close()


async def test_prometheus_gives_requests_errors_and_p95_per_route() -> None:
    series = {"http_requests_total[1m]))": {"/api/a": 100.0, "/api/b": 40.0}, '"5.."': {"/api/a": 7.0},
              "histogram_quantile": {"/api/a": 180.0, "/api/b": 95.0}}  # fmt: skip
    with serve(prometheus_app(series=series)) as url:
        config = PrometheusSource(kind="prometheus", url=url)
        poller = PrometheusPoller(config, token=None, service="web", normaliser=Normaliser())
        try:
            result = await poller.poll(None, now=NOW)
        finally:
            await poller.close()
    by_route = {m.route: m for m in result.metrics}
    assert by_route["/api/a"].requests == 100 and by_route["/api/a"].errors == 7 and by_route["/api/a"].p95_ms == 180
    assert by_route["/api/b"].errors == 0


async def test_health_checks_report_failures_after_the_threshold_and_slow_answers() -> None:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/down")
    async def down() -> Response:
        return Response(status_code=503)

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.2)
        return {"status": "ok"}

    with serve(app) as url:
        config = HealthcheckSource(
            kind="healthcheck",
            checks=[
                {"name": "home", "url": f"{url}/ok"},
                {"name": "api", "url": f"{url}/down", "failures_before_alert": 2},
                {"name": "search", "url": f"{url}/slow", "latency_budget_ms": 50},
            ],
        )
        checker = HealthChecker(config, service="web", normaliser=Normaliser())
        try:
            first = await checker.poll(None, now=NOW)
            second = await checker.poll(first.cursor, now=NOW)
        finally:
            await checker.close()
    assert [e.tags["check"] for e in first.events] == ["search"]  # one failure is not yet an issue
    failing = [e for e in second.events if e.health_check_failing]
    assert [e.tags["check"] for e in failing] == ["api"]
    assert any(e.tags.get("medic.latency_over_budget") for e in second.events)
    assert {h.name: h.ok for h in second.health} == {"home": True, "api": False, "search": True}
