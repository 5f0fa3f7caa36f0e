"""``medic replay`` over a TLS broker, with the same MEDIC_KAFKA_* security settings the services read."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from medic.commands.replay import _security
from medic.replay import plan_replay, run_replay
from medic_contracts import ActionRecorded, ActionStatus, Producer
from medic_runtime.kafka_admin import declare_topics
from medic_runtime.wire import encode_event
from medic_testing.runtime.tls import make_pki, tls_broker


def _set_kafka_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(f"MEDIC_{key.upper()}", value)


async def test_medic_replay_reads_and_republishes_over_tls_with_the_services_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_pki(tmp_path)
    async with tls_broker(pki) as (bootstrap, peers):
        _set_kafka_env(monkeypatch, kafka_security_protocol="SSL", kafka_ssl_ca_file=str(pki["ca.crt"]))
        options = _security()  # what `medic replay` builds its clients with
        topic = f"tls-replay-{uuid.uuid4().hex[:8]}"
        await declare_topics(bootstrap, {topic: 1}, options=options)
        event = ActionRecorded(
            producer=Producer(service="test", instance="t"),
            issue_id="iss_tls",
            action="step",
            status=ActionStatus.SUCCEEDED,
            summary="over tls",
        )
        value, key, headers = encode_event(event)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **options)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
        finally:
            await producer.stop()
        plan = await plan_replay(bootstrap=bootstrap, topic=topic, issue_id="iss_tls", options=options)
        assert [item.original_event_id for item in plan.items] == [event.event_id]
        assert await run_replay(bootstrap=bootstrap, plan=plan, options=options) == 1
        again = await plan_replay(bootstrap=bootstrap, topic=topic, options=options)
        assert len(again.items) == 2 and peers and set(peers) <= {"TLSv1.2", "TLSv1.3"}
