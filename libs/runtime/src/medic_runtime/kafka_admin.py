"""Topic declaration and broker probing (works against Kafka and the embedded Tansu broker)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from medic_contracts import TopicRegistry

from .aio import bounded

__all__ = ["broker_answers", "declare_topics", "wait_for_broker"]

log = logging.getLogger("medic.kafka")


async def broker_answers(bootstrap: str, *, timeout_s: float = 2.0) -> bool:
    """True when a Kafka-protocol broker answers a metadata request at ``bootstrap``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await bounded(admin.start(), timeout_s)
        await bounded(admin.list_topics(), timeout_s)
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            log.debug("admin close failed", exc_info=True)
    return True


async def wait_for_broker(bootstrap: str, *, timeout_s: float = 30.0) -> None:
    """Wait until the broker answers; raise TimeoutError naming the address otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await broker_answers(bootstrap):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no Kafka broker answered at {bootstrap} within {timeout_s:.0f}s")


async def declare_topics(
    bootstrap: str, topics: dict[str, int] | TopicRegistry, *, replication: int = 1, options: dict[str, Any] | None = None
) -> list[str]:
    """Create the topics that do not exist yet (name → partitions); return those created.

    ``options`` are the admin client's security options (:func:`.kafka_security.client_options`).
    """
    wanted = topics.partitions() if isinstance(topics, TopicRegistry) else topics
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, parts, replication) for name, parts in wanted.items() if name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
            except KafkaConnectionError:
                raise
        # Metadata propagates asynchronously on real Kafka: wait until every topic is listed.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if set(wanted) <= set(await admin.list_topics()):
                break
            await asyncio.sleep(0.1)
        return [t.name for t in missing]
    finally:
        await admin.close()
