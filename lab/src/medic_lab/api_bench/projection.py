"""Feeding the projector: events published on the broker, or handed to :func:`project` in batches."""

from __future__ import annotations

import asyncio
import time

from medic_contracts import Envelope

__all__ = ["batch_projector_rate", "publish"]


async def publish(bootstrap: str, prefix: str, events: list[Envelope]) -> None:
    """Publish ``events`` on their topics under ``prefix``, as the agents would."""
    from aiokafka import AIOKafkaProducer

    from medic_contracts import TopicRegistry
    from medic_runtime.bus import encode_event

    topics = TopicRegistry(prefix)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = []
        for event in events:
            value, key, headers = encode_event(event)
            futures.append(
                await producer.send(
                    topics.for_event(event), value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def batch_projector_rate(url: str, events: list[Envelope]) -> float:
    """Events per second of :func:`project` on batches of 500, in this process."""
    from medic_control.db import open_engine
    from medic_control.projector import Delivered, project

    engine, _ = open_engine(url)
    try:
        started = time.perf_counter()
        for i in range(0, len(events), 500):
            async with engine.begin() as conn:
                await project(conn, [Delivered(e) for e in events[i : i + 500]])
        return len(events) / (time.perf_counter() - started)
    finally:
        await engine.dispose()
