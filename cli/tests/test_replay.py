"""`medic replay` re-publishes chosen events with fresh ids and a replay-of header; consumers redo the work."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from medic.replay import plan_replay, run_replay
from medic_contracts import ActionRecorded, ActionStatus, DeadLetter, Producer, TopicName, TopicRegistry
from medic_runtime import HandlerContext, ServiceRuntime, ServiceSettings
from medic_runtime.bus import encode_event

pytestmark = pytest.mark.kafka

SOURCE = Producer(service="test", instance="t")


def action(summary: str, issue: str) -> ActionRecorded:
    return ActionRecorded(producer=SOURCE, issue_id=issue, action="step", status=ActionStatus.SUCCEEDED, summary=summary)


async def produce(bootstrap: str, topic: str, events: list[ActionRecorded | DeadLetter]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for e in events:
            value, key, headers = encode_event(e)
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()


async def wait_for(check: Callable[[], bool], timeout: float = 15) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_replaying_an_issue_reprocesses_only_its_events_as_rework(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    rt = ServiceRuntime(service_settings("consumer"))
    seen: list[tuple[str, str | None]] = []

    @rt.consume(TopicName.ACTIONS, ActionRecorded)
    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        seen.append((event.summary, ctx.delivery.replay_of))

    topic = topics.name(TopicName.ACTIONS)
    originals = [action("a1", "iss_a"), action("b1", "iss_b"), action("a2", "iss_a")]
    await rt.start()
    try:
        await produce(kafka_bootstrap, topic, originals)
        await wait_for(lambda: len(seen) == 3)
        plan = await plan_replay(bootstrap=kafka_bootstrap, topic=topic, issue_id="iss_a")
        assert [i.original_event_id for i in plan.items] == [originals[0].event_id, originals[2].event_id]
        assert await run_replay(bootstrap=kafka_bootstrap, plan=plan) == 2
        await wait_for(lambda: len(seen) == 5)
        assert seen[3:] == [("a1", originals[0].event_id), ("a2", originals[2].event_id)]
        # Replaying what was already replayed is a fresh selection, not a loop over new records.
        again = await plan_replay(bootstrap=kafka_bootstrap, topic=topic, issue_id="iss_a")
        assert len(again.items) == 4
    finally:
        await rt.stop()


async def test_replay_from_a_time_takes_only_later_events(topics: TopicRegistry, kafka_bootstrap: str) -> None:
    topic = topics.name(TopicName.ACTIONS)
    await produce(kafka_bootstrap, topic, [action("early", "iss_t")])
    await asyncio.sleep(1.2)
    cut = datetime.now(UTC)
    await asyncio.sleep(0.2)
    await produce(kafka_bootstrap, topic, [action("late", "iss_t")])
    plan = await plan_replay(bootstrap=kafka_bootstrap, topic=topic, from_time=cut)
    summaries = [json.loads(i.value)["summary"] for i in plan.items]
    assert summaries == ["late"]
    future = await plan_replay(bootstrap=kafka_bootstrap, topic=topic, from_time=datetime(2100, 1, 1, tzinfo=UTC))
    assert future.items == []


async def test_a_dead_letter_is_replayed_as_its_original_bytes_to_its_original_topic(
    topics: TopicRegistry, kafka_bootstrap: str
) -> None:
    original = action("was poison", "iss_d")
    value, key, _ = encode_event(original)
    letter = DeadLetter(
        producer=SOURCE,
        issue_id="iss_d",
        original_topic=topics.name(TopicName.ACTIONS),
        partition=0,
        offset=3,
        key_b64=base64.b64encode(key or b"").decode(),
        value_b64=base64.b64encode(value).decode(),
        headers={"medic-event-id": original.event_id},
        consumer_group="g",
        error_type="RuntimeError",
        error="transient",
        attempts=3,
    )
    await produce(kafka_bootstrap, topics.name(TopicName.DLQ), [letter])
    plan = await plan_replay(bootstrap=kafka_bootstrap, topic=topics.name(TopicName.DLQ))
    assert len(plan.items) == 1
    item = plan.items[0]
    assert item.target_topic == topics.name(TopicName.ACTIONS) and item.value == value and item.key == key


def test_cli_dry_run_prints_the_plan_and_publishes_nothing(
    topics: TopicRegistry, kafka_bootstrap: str, topic_prefix: str
) -> None:
    asyncio.run(produce(kafka_bootstrap, topics.name(TopicName.ACTIONS), [action("x", "iss_cli")]))
    medic = Path(sys.executable).with_name("medic")
    out = subprocess.run(
        [
            str(medic),
            "replay",
            "--topic",
            "actions",
            "--issue",
            "iss_cli",
            "--dry-run",
            "--bootstrap",
            kafka_bootstrap,
            "--prefix",
            topic_prefix,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    plan = json.loads(out.stdout)
    assert len(plan["replay"]) == 1 and plan["replay"][0]["issue_id"] == "iss_cli"
    again = asyncio.run(plan_replay(bootstrap=kafka_bootstrap, topic=topics.name(TopicName.ACTIONS)))
    assert len(again.items) == 1, "dry run published nothing"
    bad = subprocess.run(
        [
            str(medic),
            "replay",
            "--topic",
            "actions",
            "--from-time",
            "yesterday",
            "--bootstrap",
            kafka_bootstrap,
            "--prefix",
            topic_prefix,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "ISO 8601" in bad.stdout


def test_replay_reads_the_running_dev_stacks_broker_and_prefix_and_reports_json(
    topics: TopicRegistry, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    asyncio.run(produce(kafka_bootstrap, topics.name(TopicName.ACTIONS), [action("y", "iss_json")]))
    (tmp_path / "stack.json").write_text(json.dumps({"bootstrap": kafka_bootstrap, "prefix": topic_prefix, "services": {}}))
    env = {k: v for k, v in os.environ.items() if k not in ("MEDIC_KAFKA_BOOTSTRAP", "MEDIC_TOPIC_PREFIX")}
    medic = Path(sys.executable).with_name("medic")
    out = subprocess.run(
        [str(medic), "replay", "--topic", "actions", "--issue", "iss_json", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    report = json.loads(out.stdout)
    assert report["replayed"] == 1 and report["dry_run"] is False and report["topic"] == topics.name(TopicName.ACTIONS)
    assert [item["issue_id"] for item in report["replay"]] == ["iss_json"]
    assert "medic replay: read " in out.stderr  # progress goes to stderr, never into the JSON


async def test_replay_reports_progress_while_it_reads(topics: TopicRegistry, kafka_bootstrap: str) -> None:
    await produce(kafka_bootstrap, topics.name(TopicName.ACTIONS), [action(str(i), f"iss_p{i % 3}") for i in range(30)])
    seen: list[tuple[int, int]] = []
    plan = await plan_replay(
        bootstrap=kafka_bootstrap,
        topic=topics.name(TopicName.ACTIONS),
        progress=lambda r, t: seen.append((r, t)),
        progress_every_s=0,
    )
    assert len(plan.items) == 30 and seen and seen[-1][0] == 30 and seen[-1][1] >= 30
    assert [r for r, _ in seen] == sorted(r for r, _ in seen)


def test_the_replay_path_loads_no_broker_store_or_http_stack() -> None:
    # Most of a replay's time was importing medic_runtime.bus (FastStream, SQLAlchemy, the service runtime) for two
    # names; the replay path imports the light wire module and the aiokafka fixes only.
    code = (
        "import sys, medic.replay, medic.commands.replay; "
        "print(sorted(m for m in ('faststream', 'sqlalchemy', 'fastapi', 'prometheus_client', 'medic_runtime.bus', "
        "'medic_runtime.service', 'medic_runtime.store') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_replay_uses_the_services_kafka_security_settings_and_a_bad_one_stops_it_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from medic.commands.replay import _security

    ca = tmp_path / "ca.crt"
    monkeypatch.setenv("MEDIC_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("MEDIC_KAFKA_SSL_CA_FILE", str(ca))
    with pytest.raises(ValueError, match="MEDIC_KAFKA_SSL_CA_FILE"):  # the CA file does not exist yet
        _security()
    monkeypatch.setenv("MEDIC_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.delenv("MEDIC_KAFKA_SSL_CA_FILE")
    medic = Path(sys.executable).with_name("medic")
    bad = subprocess.run(
        [str(medic), "replay", "--topic", "actions", "--bootstrap", "127.0.0.1:1", "--dry-run", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "MEDIC_KAFKA_" in bad.stdout, bad.stdout + bad.stderr
