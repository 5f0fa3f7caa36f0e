"""A runtime's AsyncAPI document comes from a documentation-only broker: the live bus is left as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import ActionRecorded, DiagnosisReady, FixCommitted, TopicName, TopicRegistry
from medic_runtime import HandlerContext, ServiceRuntime, ServiceSettings
from medic_runtime.asyncapi import document
from medic_runtime.bus import encode_event

from .conftest import eventually
from .test_bus import action, produce


def test_document_uses_the_runtimes_prefix_group_and_declared_publications(tmp_path: Path) -> None:
    rt = ServiceRuntime(ServiceSettings(service_name="fixer", instance_id="f-1", topic_prefix="acme.", data_dir=tmp_path))
    rt.publishes(FixCommitted)

    @rt.consume(TopicName.DIAGNOSES_READY, DiagnosisReady)
    async def handle(event: DiagnosisReady, ctx: HandlerContext) -> None:
        """Registered only to be documented."""

    live_subscribers, live_publishers = list(rt.bus.broker.subscribers), list(rt.bus.broker.publishers)
    doc = document(rt, version="7")

    assert list(rt.bus.broker.subscribers) == live_subscribers and list(rt.bus.broker.publishers) == live_publishers
    assert doc["asyncapi"] == "3.0.0" and doc["info"] == {
        "title": "medic-fixer",
        "version": "7",
        "description": "The Kafka interface of Medic's fixer service.",
    }
    ops = doc["operations"]
    receive = ops["acme.fixer:acme.diagnoses.ready"]
    assert receive["action"] == "receive"
    assert receive["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["acme.fixer"]}
    assert ops["acme.fixer.each-instance:acme.control"]["bindings"]["kafka"]["groupId"]["pattern"] == "^acme\\.fixer\\..+$"
    sent = {doc["channels"][k]["address"] for k, op in ops.items() if op["action"] == "send"}
    assert sent == {"acme.fixes.committed", "acme.actions", "acme.dlq"}
    message = doc["components"]["messages"]["send:acme.fixes.committed:Message"]
    assert message["payload"] == {"$ref": "#/components/schemas/FixCommitted"}
    assert message["correlationId"]["location"] == "$message.payload#/correlation_id"


@pytest.mark.kafka
async def test_a_documented_runtime_still_consumes_as_before(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("fixer"))
    seen: list[str] = []

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        seen.append(event.summary)

    document(rt)  # before start, as `medic contracts asyncapi` does
    await rt.start()
    try:
        await produce(kafka_bootstrap, topics.name(TopicName.ACTIONS), [encode_event(action(1))])
        await eventually(lambda: seen == ["n=1"], timeout=60.0)
    finally:
        await rt.stop()
