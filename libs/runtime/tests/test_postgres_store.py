"""The service store on real PostgreSQL: own schema, idempotent delivery, shared work queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from medic_contracts import ActionRecorded, ActionStatus, Producer, TopicName, TopicRegistry
from medic_runtime import HandlerContext, ServiceRuntime, ServiceSettings, WorkContext, WorkItem
from medic_runtime.bus import encode_event

from .conftest import eventually
from .test_bus import produce

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_delivery_and_work_on_postgres_use_the_services_own_schema(
    service_settings: Callable[..., ServiceSettings], fresh_postgres_url: str, topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("pgsvc", store_url=fresh_postgres_url))
    handled: list[str] = []
    worked: list[str] = []

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        handled.append(event.summary)
        await rt.work.enqueue(ctx.conn, kind="job", dedup_key=f"job:{event.event_id}", payload={"s": event.summary})

    @rt.worker("job", concurrency=2)
    async def job(item: WorkItem, ctx: WorkContext) -> None:
        worked.append(item.payload["s"])

    await rt.start()
    try:
        event = ActionRecorded(
            producer=Producer(service="t", instance="t"),
            issue_id="iss_pg",
            action="x",
            status=ActionStatus.SUCCEEDED,
            summary="once",
        )
        value, key, headers = encode_event(event)
        await produce(kafka_bootstrap, topics.name(TopicName.ACTIONS), [(value, key, headers)] * 3)
        await eventually(lambda: worked == ["once"], timeout=20)
        assert handled == ["once"]
        async with rt.store.engine.connect() as conn:
            query = text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'work_items'")
            schemas = {r[0] for r in await conn.execute(query)}
        assert schemas == {"medic_pgsvc"}
    finally:
        await rt.stop()
