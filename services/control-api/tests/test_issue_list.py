"""GET /issues on PostgreSQL runs as one statement whose rows PostgreSQL renders as JSON: it must answer byte for byte
what the ORM path (rows validated into IssueSummary, serialized by pydantic) answers, on every filter and page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from medic_contracts import IssueDetected, IssueType, Severity
from medic_control.context import ControlContext
from medic_control.issues import service as issues
from medic_control.issues.models import Issue
from medic_control.projector import Delivered, project

from .conftest import ControlHarness, StartControl, lifecycle

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)  # whole seconds: pydantic writes no fraction, the SQL must not either


async def _seed(store: Any) -> None:
    """Twelve issues: every severity, several types and stages of the loop, times with and without microseconds."""
    async with store.transaction() as conn:
        for i in range(12):
            events = lifecycle(f"iss_list_{i:02d}", start=T0 - timedelta(minutes=7 * i, microseconds=0 if i % 3 else 1234))
            detected = events[0]
            assert isinstance(detected, IssueDetected)
            events[0] = detected.model_copy(
                update={
                    "severity": list(Severity)[i % 5],
                    "issue_type": IssueType.PERFORMANCE if i % 4 == 0 else detected.issue_type,
                    "target": "shop" if i % 2 else "admin",
                }
            )
            await project(conn, [Delivered(e) for e in events[: 1 + i % 6]])


async def test_the_issue_list_answers_exactly_what_the_orm_path_answers(store_url: str, start_control: StartControl) -> None:
    harness = await start_control(store_url)
    ctx: ControlContext = harness.runtime.http.state.control
    assert (ctx.read_pool is not None) == (harness.runtime.store.dialect == "postgresql")
    await _seed(harness.runtime.store)
    queries: list[dict[str, Any]] = [
        {},
        {"status": ["detected", "resolved", "fixing"]},
        {"severity": ["P1", "P2"], "type": "performance"},
        {"target": "shop", "since": (T0 - timedelta(minutes=40)).isoformat(), "until": T0.isoformat()},
        {"status": "rolled_back"},  # nothing matches
    ]
    async with harness.client("viewer") as client:
        for query in queries:
            seen: list[str] = []
            cursor: str | None = None
            while True:
                params = {**query, "limit": 4, **({"cursor": cursor} if cursor else {})}
                response = await client.get("/api/v1/issues", params=params)
                assert response.status_code == 200, response.text
                filters = issues.IssueFilter(
                    status=tuple(_many(query.get("status"))),
                    severity=tuple(_many(query.get("severity"))),
                    issue_type=tuple(_many(query.get("type"))),
                    target=query.get("target"),
                    since=datetime.fromisoformat(query["since"]) if "since" in query else None,
                    until=datetime.fromisoformat(query["until"]) if "until" in query else None,
                )
                async with ctx.read_engine.connect() as conn:
                    expected = await issues.list_issues(conn, filters=filters, limit=4, cursor=cursor)
                assert response.content == expected.model_dump_json().encode(), query
                page = response.json()
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert len(seen) == len(set(seen))  # pages neither repeat nor skip
            async with ctx.read_engine.connect() as conn:
                everything = await issues.list_issues(conn, filters=filters, limit=200, cursor=None)
            assert seen == [item.id for item in everything.items]
    assert len(seen) == 0 and len(await _all(harness)) == 12


def _many(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else value


async def _all(harness: ControlHarness) -> list[Any]:
    ctx: ControlContext = harness.runtime.http.state.control
    async with ctx.read_engine.connect() as conn:
        return (await issues.list_issues(conn, filters=issues.IssueFilter(), limit=200, cursor=None)).items


async def test_a_row_changed_by_any_writer_is_listed_as_it_now_is(store_url: str, start_control: StartControl) -> None:
    """On PostgreSQL each row's summary JSON is kept by a trigger: a change made in SQL shows up like the projector's."""
    harness = await start_control(store_url)
    ctx: ControlContext = harness.runtime.http.state.control
    await _seed(harness.runtime.store)
    async with harness.runtime.store.transaction() as conn:
        await conn.execute(
            update(Issue)
            .where(Issue.id == "iss_list_03")
            .values(title='A "quoted" \\ title ✓', sla_missed_at=T0 + timedelta(microseconds=5), false_positive=True)
        )
    async with harness.client("viewer") as client:
        response = await client.get("/api/v1/issues", params={"limit": 200})
    async with ctx.read_engine.connect() as conn:
        expected = await issues.list_issues(conn, filters=issues.IssueFilter(), limit=200, cursor=None)
    assert response.content == expected.model_dump_json().encode()
    [changed] = [item for item in response.json()["items"] if item["id"] == "iss_list_03"]
    assert changed["title"] == 'A "quoted" \\ title ✓' and changed["false_positive"] is True
    assert changed["sla_missed_at"] == "2026-03-01T12:00:00.000005Z"


async def test_bad_filters_are_refused_naming_the_parameter(store_url: str, start_control: StartControl) -> None:
    harness = await start_control(store_url)
    async with harness.client("viewer") as client:
        for params, name in (
            ({"limit": 0}, "limit"),
            ({"limit": "many"}, "limit"),
            ({"status": ["detected", "sleeping"]}, "status"),
            ({"since": "yesterday"}, "since"),
            ({"target": "x" * 201}, "target"),
        ):
            response = await client.get("/api/v1/issues", params=params)
            assert response.status_code == 422, params
            body = response.json()
            assert body["error"]["fields"][0]["loc"][:2] == ["query", name], body
        # unknown parameters are ignored, as everywhere else in the API
        assert (await client.get("/api/v1/issues", params={"colour": "red"})).status_code == 200
