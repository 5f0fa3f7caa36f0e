"""The official Sentry SDKs (Python sentry-sdk, @sentry/node) sending to a running watcher, up to IssueDetected on the bus.

tests/test_sdk_ingest_e2e.py follows the same clients further, to the issue in control-api.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import TopicName, TopicRegistry
from medic_runtime import ServiceSettings
from medic_testing.watcher.sdk_clients import node_available, run_node_client, run_python_client

from .live import live_watcher, write_toml
from .test_service import issues_on_bus, wait_for

pytestmark = pytest.mark.kafka


def ingest_source(**extra: object) -> dict[str, object]:
    return {"kind": "sentry_ingest", "name": "sdk", "project_id": "1", "keys_env": "TEST_DSN_KEYS", **extra}


async def test_python_sentry_sdk_event_becomes_an_issue_detected_on_the_bus(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("TEST_DSN_KEYS", "oldkey,pubkey123")
    toml = write_toml(tmp_path, ingest_source())
    async with live_watcher(service_settings, toml) as (url, watcher):
        dsn = url.replace("http://", "http://pubkey123@") + "/1"
        await run_python_client(dsn)
        (issue,) = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=1, timeout=60)
        await wait_for(lambda: watcher.pushes.queued == 0, timeout=30)
        status = watcher.status()["targets"]["shop"]["sdk"]
    assert issue.title.startswith("ZeroDivisionError: division by zero")
    assert issue.source == "sentry" and issue.release == "shop@1.4.2"
    assert any(f.function == "launch" for f in issue.frames)
    assert "ada@example.com" not in issue.model_dump_json()  # redacted on the way, as polled events are
    assert status["kind"] == "sentry_ingest" and status["events"] == 1 and status["status"] == "ok"


@pytest.mark.skipif(not node_available(), reason="node is not installed")
async def test_sentry_node_sdk_event_becomes_an_issue_detected_on_the_bus(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("TEST_DSN_KEYS", "nodekey")
    toml = write_toml(tmp_path, ingest_source())
    async with live_watcher(service_settings, toml) as (url, _):
        dsn = url.replace("http://", "http://nodekey@") + "/1"
        await run_node_client(dsn, tmp_path)
        (issue,) = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=1, timeout=60)
    assert issue.title.startswith("TypeError: Cannot read properties of undefined")
    assert issue.source == "sentry" and issue.release == "shop@2.0.0"
    assert any(f.function == "loadCart" for f in issue.frames)
    assert issue.affected_users == 1
