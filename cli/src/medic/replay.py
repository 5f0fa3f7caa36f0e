"""Replay: re-publish chosen events so an issue can be reprocessed.

Each replayed event gets a fresh ``event_id`` and a ``replay-of`` header naming the original, so
consumers treat it as rework rather than a duplicate. A DeadLetter is replayed as its original
bytes to its original topic (it was never processed, so it keeps its id).

The selection is a snapshot: the end offsets are read once at the start, so events published
meanwhile (including the replayed ones, when replaying onto the same topic) are not replayed again.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from medic_contracts import DeadLetter, Envelope, event_adapter
from medic_runtime import kafka_compat
from medic_runtime.wire import HEADER_REPLAY_OF, encode_event  # not medic_runtime.bus: seconds of imports replay never uses

__all__ = ["ReplayItem", "ReplayPlan", "plan_replay", "run_replay"]

kafka_compat.apply_client()  # the idempotent producer against the embedded broker (InitProducerId v3)


@dataclass(frozen=True, slots=True)
class ReplayItem:
    """One record chosen for replay and what will be published for it."""

    source_topic: str
    partition: int
    offset: int
    target_topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    original_event_id: str | None
    event_type: str | None
    issue_id: str | None


@dataclass(slots=True)
class ReplayPlan:
    """What a replay will publish, and what it skipped (with why)."""

    items: list[ReplayItem] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _start_offsets(
    found: dict[TopicPartition, Any], partitions: list[TopicPartition], end: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    starts: dict[TopicPartition, int] = {}
    for tp in partitions:
        hit = found.get(tp)
        # Kafka answers "no record at or after that time" with None; the embedded broker (Tansu) with
        # offset 0 and timestamp -1. Both mean: nothing to replay in this partition.
        if hit is None or (hit.offset == 0 and hit.timestamp == -1):
            starts[tp] = end[tp]
        else:
            starts[tp] = hit.offset
    return starts


async def plan_replay(
    *,
    bootstrap: str,
    topic: str,
    to_topic: str | None = None,
    issue_id: str | None = None,
    from_offset: int | None = None,
    from_time: datetime | None = None,
    read_timeout_s: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    progress_every_s: float = 1.0,
    options: Mapping[str, Any] | None = None,
) -> ReplayPlan:
    """Read the chosen range of ``topic`` and decide what to publish.

    ``progress(read, total)`` is called about every ``progress_every_s`` while reading (``total`` is the
    number of records in the range when reading started), and once at the end. ``options`` are the aiokafka
    client's security arguments (TLS, SASL/SCRAM: :func:`medic_runtime.kafka_security.client_options`).
    """
    options = dict(options or {})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **options)
    await consumer.start()
    plan = ReplayPlan()
    try:
        tps = [TopicPartition(topic, p) for p in await _partitions(bootstrap, topic, options)]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        begin = await consumer.beginning_offsets(tps)
        if from_time is not None:
            found = await consumer.offsets_for_times({tp: int(from_time.timestamp() * 1000) for tp in tps})
            starts = _start_offsets(found, tps, end)
        else:
            starts = {tp: max(begin[tp], from_offset or 0) for tp in tps}
        for tp in tps:
            consumer.seek(tp, starts[tp])
        # The embedded broker under-reports end offsets after multi-record batches, so the reported end
        # is a lower bound: read until every partition is past it and a fetch comes back empty.
        deadline = time.monotonic() + read_timeout_s
        total = sum(max(0, end[tp] - starts[tp]) for tp in tps)
        read, reported = 0, time.monotonic()
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {read_timeout_s:.0f}s")
            batch = await consumer.getmany(*tps, timeout_ms=300)
            for records in batch.values():
                read += len(records)
                for record in records:
                    _consider(plan, record, to_topic=to_topic, issue_id=issue_id)
            if progress is not None and time.monotonic() - reported >= progress_every_s:
                progress(read, total)
                reported = time.monotonic()
            if not batch and all([await consumer.position(tp) >= end[tp] for tp in tps]):
                break
        if progress is not None:
            progress(read, total)
    finally:
        await consumer.stop()
    return plan


async def _partitions(bootstrap: str, topic: str, options: Mapping[str, Any]) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            raise ValueError(f"topic {topic!r} does not exist")
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for p in described[0]["partitions"])


def _consider(plan: ReplayPlan, record: Any, *, to_topic: str | None, issue_id: str | None) -> None:
    headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or ())}
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    try:
        event: Envelope = event_adapter().validate_json(record.value or b"")
    except ValidationError as exc:
        plan.skipped.append({**where, "reason": f"not a valid event: {exc.errors()[0]['msg']}"})
        return
    if issue_id is not None and event.issue_id != issue_id:
        return
    if isinstance(event, DeadLetter):
        original = base64.b64decode(event.value_b64)
        plan.items.append(
            ReplayItem(
                source_topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                target_topic=to_topic or event.original_topic,
                key=base64.b64decode(event.key_b64) if event.key_b64 else None,
                value=original,
                headers={k: v for k, v in event.headers.items() if not v.startswith("base64:")}
                | {HEADER_REPLAY_OF: event.event_id},
                original_event_id=event.headers.get("medic-event-id"),
                event_type=event.headers.get("medic-event-type"),
                issue_id=event.issue_id,
            )
        )
        return
    fresh = event.with_fresh_id()
    value, key, new_headers = encode_event(fresh, extra_headers={HEADER_REPLAY_OF: event.event_id})
    if "traceparent" in headers:
        new_headers["traceparent"] = headers["traceparent"]  # the replay continues the original trace
    plan.items.append(
        ReplayItem(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            target_topic=to_topic or record.topic,
            key=key,
            value=value,
            headers=new_headers,
            original_event_id=event.event_id,
            event_type=event.event_type,
            issue_id=event.issue_id,
        )
    )


async def run_replay(*, bootstrap: str, plan: ReplayPlan, options: Mapping[str, Any] | None = None) -> int:
    """Publish a plan (idempotent producer, acks=all); return how many were published."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **dict(options or {}))
    await producer.start()
    try:
        futures = [
            await producer.send(
                item.target_topic, item.value, key=item.key, headers=[(k, v.encode()) for k, v in item.headers.items()]
            )
            for item in plan.items
        ]
        for fut in futures:
            await fut
    finally:
        await producer.stop()
    return len(plan.items)


def describe(plan: ReplayPlan, **extra: Any) -> str:
    """A JSON summary of a plan (for --dry-run and --json), with ``extra`` keys first."""
    return json.dumps(
        {
            **extra,
            "replay": [
                {
                    "from": f"{i.source_topic}[{i.partition}]@{i.offset}",
                    "to": i.target_topic,
                    "event_type": i.event_type,
                    "issue_id": i.issue_id,
                    "replay_of": i.original_event_id,
                }
                for i in plan.items
            ],
            "skipped": plan.skipped,
        },
        indent=2,
    )
