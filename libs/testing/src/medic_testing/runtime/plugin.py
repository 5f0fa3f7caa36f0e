"""Pytest fixtures giving tests a real Kafka-protocol broker and a real PostgreSQL.

Broker: ``MEDIC_TEST_KAFKA`` if set; else Apache Kafka via testcontainers when a Docker engine
answers; else the embedded Tansu broker (one per test session). Each test gets its own topic
prefix, so tests never see each other's events.

Database: ``MEDIC_TEST_DATABASE_URL`` if set; else the local PostgreSQL on 127.0.0.1:5432 (a fresh
database per session, dropped afterwards); else PostgreSQL via testcontainers; else the test is
skipped. SQLite tests always run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import TopicRegistry
from medic_runtime.embedded import EmbeddedBroker
from medic_runtime.kafka_admin import declare_topics
from medic_runtime.settings import ServiceSettings

__all__ = ["docker_available"]


def docker_available() -> bool:
    """True when a Docker engine answers (testcontainers can run)."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
    except Exception:
        return False
    return True


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """host:port of a real Kafka-protocol broker for this test session."""
    if env := os.environ.get("MEDIC_TEST_KAFKA"):
        yield env
        return
    if docker_available():  # pragma: no cover - no Docker engine on the CI machines
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    broker = EmbeddedBroker()
    asyncio.run(broker.start())
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> str:
    """A fresh topic prefix with every registry topic declared on the broker."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    asyncio.run(declare_topics(kafka_bootstrap, TopicRegistry(prefix)))
    return prefix


@pytest.fixture
def topics(topic_prefix: str) -> TopicRegistry:
    """The registry for this test's topic prefix."""
    return TopicRegistry(topic_prefix)


@pytest.fixture
def service_settings(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Callable[..., ServiceSettings]:
    """Build settings for a service under test: this test's broker, topics and a temp SQLite store."""

    def make(service: str = "test", cls: type[ServiceSettings] = ServiceSettings, **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "service_name": service,
            "instance_id": f"{service}-{uuid.uuid4().hex[:6]}",
            "kafka_bootstrap": kafka_bootstrap,
            "topic_prefix": topic_prefix,
            "kafka_session_timeout_ms": 2000,
            "kafka_heartbeat_interval_ms": 500,
            "store_url": f"sqlite+aiosqlite:///{tmp_path / f'{service}-{uuid.uuid4().hex[:6]}.db'}",
            "delivery_backoff_ms": 20,
            "control_catch_up_timeout_s": 10,
            "log_format": "text",
        }
        values.update(overrides)
        return cls(**values)

    return make


def test_env(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a service *process* under test (fast group joins, temp store)."""
    env = dict(os.environ)
    env.update(
        {
            "MEDIC_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "MEDIC_TOPIC_PREFIX": topic_prefix,
            "MEDIC_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "MEDIC_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "MEDIC_DATA_DIR": str(tmp_path),
            "MEDIC_LOG_FORMAT": "json",
            "MEDIC_DELIVERY_BACKOFF_MS": "20",
        }
    )
    env.update(extra)
    return env


test_env.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, despite its name


# ---- PostgreSQL ------------------------------------------------------------------------------


def _local_postgres_url() -> str | None:
    if not _port_open("127.0.0.1", 5432):
        return None
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An asyncpg URL of a fresh, empty PostgreSQL database for this session."""
    if env := os.environ.get("MEDIC_TEST_DATABASE_URL"):
        yield env
        return
    admin = _local_postgres_url()
    container = None
    if admin is None and docker_available():  # pragma: no cover - no Docker engine on the CI machines
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver="asyncpg").start()
        admin = container.get_connection_url()
    if admin is None:
        pytest.skip("no PostgreSQL: set MEDIC_TEST_DATABASE_URL or start the local server")
    name = f"medic_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(admin, name))
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_drop_database(admin, name))
        if container is not None:  # pragma: no cover
            container.stop()


@pytest.fixture
async def fresh_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh database per test (for tests that need an empty schema)."""
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    name = f"medic_t_{uuid.uuid4().hex[:10]}"
    await _create_database(admin, name)
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await _drop_database(admin, name)
