"""Without a target file the implementer still runs, and records every diagnosis as not fixed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    DiagnosisReady,
    FixStrategy,
    IssueBrief,
    IssueType,
    Producer,
    Severity,
    TopicName,
    TopicRegistry,
    event_adapter,
)
from medic_implementer.app import build
from medic_implementer.settings import ImplementerSettings
from medic_runtime import ServiceSettings
from medic_runtime.bus import encode_event

pytestmark = pytest.mark.kafka


async def test_unconfigured_implementer_records_each_diagnosis_as_not_fixed(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = build(service_settings("implementer", cls=ImplementerSettings))  # type: ignore[arg-type]
    diagnosis = DiagnosisReady(
        producer=Producer(service="investigator", instance="i"),
        issue_id="iss_u",
        issue=IssueBrief(
            target="shop", service="web", title="t", severity=Severity.P2, issue_type=IssueType.API_ERROR, fingerprint="fp"
        ),
        root_cause="x",
        affected_file="a.py",
        fix_strategy=FixStrategy.NULL_GUARD,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=1),
        provider="playbook",
    )
    await rt.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    consumer = AIOKafkaConsumer(
        topics.name(TopicName.ACTIONS), bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await producer.start()
    await consumer.start()
    try:
        value, key, headers = encode_event(diagnosis)
        await producer.send_and_wait(
            topics.name(TopicName.DIAGNOSES_READY), value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
        )
        found: list[ActionRecorded] = []
        for _ in range(100):
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [
                    e
                    for e in (event_adapter().validate_json(r.value) for r in records)
                    if isinstance(e, ActionRecorded) and e.causation_id == diagnosis.event_id
                ]
            if found:
                break
        assert [(a.action, a.status) for a in found] == [("implementer.unconfigured", ActionStatus.FAILED)]
    finally:
        await consumer.stop()
        await producer.stop()
        await rt.stop()
