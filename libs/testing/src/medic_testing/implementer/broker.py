"""Broker and forge helpers for service tests: publish and read events, set the configuration, read pull requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medic_contracts import Producer

from .repos import FixtureRepo

OPERATOR = Producer(service="control-api", instance="test")


async def produce(bootstrap: str, topic: str, *events: Any) -> None:
    """Publish events to ``topic`` with a plain aiokafka producer (as another service would)."""
    from aiokafka import AIOKafkaProducer

    from medic_runtime.bus import encode_event

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            value, key, headers = encode_event(event)
            await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()


async def read_events(bootstrap: str, topic: str, *, until: Any, timeout: float = 120.0) -> list[Any]:
    """Read ``topic`` from the start until ``until(events)`` holds or ``timeout`` passes."""
    from medic_testing.runtime.topics import read_topic

    return await read_topic(bootstrap, topic, until=until, timeout=timeout)


async def set_config(bootstrap: str, topic_prefix: str, config: Any, *, paused: bool = False) -> None:
    """Put a state snapshot (configuration and pause state) on the control topic, as control-api does."""
    from medic_contracts import CommandName, ControlCommand, TopicName, TopicRegistry

    snapshot = ControlCommand(
        producer=OPERATOR,
        command=CommandName.STATE_SNAPSHOT,
        actor="test",
        paused=paused,
        config=config.model_dump(mode="json"),
        config_version=config.version,
    )
    await produce(bootstrap, TopicRegistry(topic_prefix).name(TopicName.CONTROL), snapshot)


def write_target(repo: FixtureRepo, directory: Path) -> Path:
    """A medic.toml for a fixture repository with its bare remote as a local forge."""
    toml = directory / "medic.toml"
    toml.write_text(
        f'[target]\nname = "shop"\nrepo = "{repo.path}"\nlanguage = "{repo.target.language}"\n'
        f"test_command = {repo.target.test_command!r}\ntest_timeout_s = 120\n\n"
        f'[forge]\nkind = "local"\nremote = "{repo.remote}"\n'
    )
    return toml


def local_forge(remote: Path) -> Any:
    """The shared local forge on a fixture's bare remote (its private clones beside it)."""
    from medic_forge import LocalForge

    return LocalForge(remote, remote.parent / "forge-work")


def pulls(remote: Path) -> list[dict[str, Any]]:
    """The pull request records a local forge keeps in its bare repository."""
    import json

    path = remote / "medic-forge" / "pulls.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    records = data.get("pulls", []) if isinstance(data, dict) else data
    return [dict(r) for r in records]
