"""``medic bench bus``: publish→consume hop latency and consumer throughput, runtime vs raw aiokafka.

Both are measured on the same broker in the same run:

- **raw**: aiokafka producer (idempotent, acks=all) → aiokafka consumer in a group (``getmany``).
- **runtime**: the full path a Medic event takes — outbox row written in a store transaction, the
  relay publishing it, a ``ServiceRuntime`` consumer decoding and validating it, checking and recording
  the processed id (idempotency) and writing the handler's output event to its outbox in the same
  transaction, then committing offsets.

Latency is measured ping-pong (one event in flight), so it is the hop itself, not queueing. Both
paths use the same ``fetch_max_wait_ms``: Kafka answers a fetch as soon as data arrives, the embedded
broker only when the wait expires, so on it this setting bounds the hop latency of both paths alike.
Throughput is one consumer process draining a backlog of pre-produced events.

``cpu`` gives this process's CPU time per hop / per event on each path and ``machine`` the load around
the run: on a shared machine, wall-clock figures stretch with CPU contention in proportion to the CPU a
path needs, so these say how much of a gap is the runtime's own work and how loaded the run was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from medic_contracts import ActionRecorded, ActionStatus, Producer, TopicRegistry
from medic_runtime.aio import bounded
from medic_runtime.bus import HandlerContext, encode_event
from medic_runtime.embedded import EmbeddedBroker
from medic_runtime.kafka_admin import declare_topics
from medic_runtime.service import ServiceRuntime
from medic_runtime.settings import ServiceSettings

__all__ = ["run_bus_benchmark"]

SOURCE = Producer(service="bench", instance="bench-1")


def _event(n: int) -> ActionRecorded:
    return ActionRecorded(
        producer=SOURCE,
        issue_id=f"iss_{n % 64}",
        action="bench.step",
        status=ActionStatus.SUCCEEDED,
        summary=f"benchmark event {n}",
        details={"n": n, "padding": "x" * 256},
    )


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


async def _raw_latency(bootstrap: str, topic: str, samples: int, fetch_wait_ms: int, cpu: dict[str, float]) -> list[float]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-lat-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=fetch_wait_ms,
    )
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    received: asyncio.Queue[float] = asyncio.Queue()

    async def consume() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for _ in records:
                    received.put_nowait(time.perf_counter())

    task = asyncio.create_task(consume())
    try:
        await _wait_assigned(consumer)
        out: list[float] = []
        cpu_start = 0.0
        for n in range(samples + 20):
            if n == 20:
                cpu_start = time.process_time()
            value, key, headers = encode_event(_event(n))
            started = time.perf_counter()
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
            arrived = await bounded(received.get(), timeout=10)
            if n >= 20:  # warm-up
                out.append(arrived - started)
        cpu["raw_ms_per_hop"] = round((time.process_time() - cpu_start) / samples * 1000, 3)
        return out
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await producer.stop()
        await consumer.stop()


async def _wait_assigned(consumer: AIOKafkaConsumer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not consumer.assignment() and time.monotonic() < deadline:  # noqa: ASYNC110 - aiokafka has no assignment event
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)


async def _backlog(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for n in range(count):
            value, key, headers = encode_event(_event(n))
            futures.append(await producer.send(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _raw_throughput(bootstrap: str, topic: str, count: int, cpu: dict[str, float]) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-tp-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        max_poll_records=500,
    )
    await consumer.start()
    try:
        seen = 0
        first = last = cpu_start = 0.0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            for tp, records in batch.items():
                for record in records:
                    json.loads(record.value)  # a consumer at least decodes what it reads
                    if not seen:
                        first, cpu_start = time.perf_counter(), time.process_time()
                    seen += 1
                last = time.perf_counter()
                await consumer.commit({tp: records[-1].offset + 1})
        cpu["raw_us_per_event"] = round((time.process_time() - cpu_start) / count * 1e6, 1)
        return count / (last - first)
    finally:
        await consumer.stop()


def _settings(bootstrap: str, prefix: str, store: Path, service: str, fetch_wait_ms: int = 5) -> ServiceSettings:
    return ServiceSettings(
        kafka_fetch_max_wait_ms=fetch_wait_ms,
        service_name=service,
        instance_id=f"{service}-{uuid.uuid4().hex[:6]}",
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        kafka_session_timeout_ms=2000,
        kafka_heartbeat_interval_ms=500,
        store_url=f"sqlite+aiosqlite:///{store}",
        control_catch_up_timeout_s=5,
    )


async def _runtime_latency(  # noqa: PLR0917 - a private step of one benchmark
    bootstrap: str, prefix: str, topic: str, samples: int, tmp: Path, fetch_wait_ms: int, cpu: dict[str, float]
) -> list[float]:
    sender = ServiceRuntime(_settings(bootstrap, prefix, tmp / "sender.db", "bench-sender", fetch_wait_ms))
    receiver = ServiceRuntime(_settings(bootstrap, prefix, tmp / "receiver.db", "bench-receiver", fetch_wait_ms))
    received: asyncio.Queue[float] = asyncio.Queue()

    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        received.put_nowait(time.perf_counter())
        ctx.record("bench.ack", ActionStatus.SUCCEEDED, "ack", caused_by=event)

    receiver.bus.subscribe(topic, handle, accepts=(ActionRecorded,), auto_offset_reset="latest")
    await sender.start()
    await receiver.start()
    try:
        await _wait_assigned(receiver.bus.subscriptions[0].subscriber.consumer)
        out: list[float] = []
        cpu_start = 0.0
        for n in range(samples + 20):
            if n == 20:
                cpu_start = time.process_time()
            started = time.perf_counter()
            async with sender.transaction() as tx:
                tx.emit(_event(n), topic=topic)
            arrived = await bounded(received.get(), timeout=10)
            if n >= 20:
                out.append(arrived - started)
        cpu["runtime_ms_per_hop"] = round((time.process_time() - cpu_start) / samples * 1000, 3)
        return out
    finally:
        await receiver.stop()
        await sender.stop()


async def _runtime_throughput(  # noqa: PLR0917 - a private step of one benchmark
    bootstrap: str, prefix: str, topic: str, count: int, tmp: Path, cpu: dict[str, float]
) -> float:
    receiver = ServiceRuntime(_settings(bootstrap, prefix, tmp / "drain.db", "bench-drain"))
    times: list[float] = []
    done = asyncio.Event()
    cpu_start = 0.0

    async def handle(event: ActionRecorded, ctx: HandlerContext) -> None:
        nonlocal cpu_start
        if not times:
            cpu_start = time.process_time()
        times.append(time.perf_counter())
        ctx.record("bench.ack", ActionStatus.SUCCEEDED, "ack", caused_by=event)
        if len(times) >= count:
            done.set()

    receiver.bus.subscribe(topic, handle, accepts=(ActionRecorded,))
    await receiver.start()
    try:
        await bounded(done.wait(), timeout=300)
        cpu["runtime_us_per_event"] = round((time.process_time() - cpu_start) / count * 1e6, 1)
        return count / (times[-1] - times[0])
    finally:
        await receiver.stop()


def _machine_load() -> dict[str, float | None]:
    """The 1-minute load average and, where the kernel reports it, the share of time tasks waited for a CPU."""
    pressure: float | None = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]  # "some avg10=91.55 avg60=..."
        pressure = float(line.split()[1].split("=")[1])
    return {"loadavg_1m": round(os.getloadavg()[0], 2), "cpu_pressure_some_avg10": pressure}


async def run_bus_benchmark(
    *, bootstrap: str | None = None, latency_samples: int = 500, events: int = 20_000, fetch_wait_ms: int = 5
) -> dict[str, Any]:
    """Measure both paths on one broker; return the DESIGN.md §8 ``bus`` JSON object."""
    broker: EmbeddedBroker | None = None
    if bootstrap is None:
        broker = EmbeddedBroker()
        await broker.start()
        bootstrap = broker.bootstrap
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    registry = TopicRegistry(prefix)
    topics = {f"{prefix}raw.lat": 1, f"{prefix}raw.tp": 6, f"{prefix}rt.lat": 1, f"{prefix}rt.tp": 6, **registry.partitions()}
    cpu: dict[str, float] = {}
    load_start = _machine_load()
    try:
        await declare_topics(bootstrap, topics)
        with tempfile.TemporaryDirectory(prefix="medic-bench-") as tmpdir:
            tmp = Path(tmpdir)
            raw_lat = await _raw_latency(bootstrap, f"{prefix}raw.lat", latency_samples, fetch_wait_ms, cpu)
            rt_lat = await _runtime_latency(bootstrap, prefix, f"{prefix}rt.lat", latency_samples, tmp, fetch_wait_ms, cpu)
            await _backlog(bootstrap, f"{prefix}raw.tp", events)
            await _backlog(bootstrap, f"{prefix}rt.tp", events)
            raw_tp = await _raw_throughput(bootstrap, f"{prefix}raw.tp", events, cpu)
            rt_tp = await _runtime_throughput(bootstrap, prefix, f"{prefix}rt.tp", events, tmp, cpu)
    finally:
        if broker:
            broker.stop()
    raw = {**_percentiles(raw_lat), "events_per_s": round(raw_tp, 1)}
    runtime = {**_percentiles(rt_lat), "events_per_s": round(rt_tp, 1)}
    return {
        "runtime": runtime,
        "raw": raw,
        "ratio": {"p99": round(runtime["p99_ms"] / raw["p99_ms"], 2), "p50": round(runtime["p50_ms"] / raw["p50_ms"], 2)},
        "targets": {
            "runtime_p99_le_2x_raw": runtime["p99_ms"] <= 2 * raw["p99_ms"],
            "runtime_ge_5000_events_per_s": runtime["events_per_s"] >= 5000,
        },
        "cpu": cpu,
        "machine": {"cpus": os.cpu_count(), "start": load_start, "end": _machine_load()},
        "config": {
            "latency_samples": latency_samples,
            "events": events,
            "broker": "embedded tansu" if broker else bootstrap,
            "store": "sqlite (per consumer process)",
            "fetch_max_wait_ms": fetch_wait_ms,
        },
    }
