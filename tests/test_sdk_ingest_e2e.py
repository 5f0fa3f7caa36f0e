"""The official Sentry SDKs report to a running watcher, and the issue shows up in control-api's API.

Real processes (control-api and the watcher, as `medic dev up` runs them) on a real broker; the real
PyPI ``sentry-sdk`` and npm ``@sentry/node`` send their envelopes to the watcher's DSN ingest; the test
reads the issues back from control-api over HTTP with a token, as an operator's client would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess
from medic_testing.watcher.sdk_clients import node_available, run_node_client, run_python_client

pytestmark = [pytest.mark.kafka, pytest.mark.e2e]

ADMIN_TOKEN = "mdc_sdk_ingest_admin_" + "0" * 27
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DSN_KEY = "sdkpublickey42"


def target_file(root: Path) -> Path:
    toml = root / "medic.toml"
    toml.write_text(
        '[target]\nname = "shop"\nrepo = "."\nlanguage = "python"\ntest_command = "pytest"\nservices = ["web"]\n\n'
        '[[sources]]\nkind = "sentry_ingest"\nname = "sdk"\nproject_id = "1"\nkeys_env = "TEST_DSN_KEYS"\n'
    )
    return toml


@pytest.fixture
def stack(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    env = test_env(kafka_bootstrap, topic_prefix, tmp_path, MEDIC_LOG_FORMAT="text")
    control_env = {
        **env,
        "MEDIC_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "MEDIC_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'medic.db'}",
    }
    watcher_env = {**env, "MEDIC_TARGETS": str(target_file(tmp_path)), "TEST_DSN_KEYS": DSN_KEY}
    procs = {
        "control-api": ServiceProcess.console_script("control-api", "medic-control-api", env=control_env, log_dir=tmp_path),
        "watcher": ServiceProcess.console_script("watcher", "medic-watcher", env=watcher_env, log_dir=tmp_path),
    }
    try:
        for proc in procs.values():
            proc.start()
        for proc in procs.values():
            proc.wait_healthy(timeout=120)
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


async def issue_titled(api: str, prefix: str, *, timeout: float = 60.0) -> dict[str, Any]:
    """The control-api issue whose title starts with ``prefix``, read through GET /issues and GET /issues/{id}."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=api, headers=ADMIN, timeout=10) as client:
        while time.monotonic() < deadline:
            page = (await client.get("/api/v1/issues", params={"target": "shop"})).raise_for_status().json()
            for item in page["items"]:
                if item["title"].startswith(prefix):
                    detail: dict[str, Any] = (await client.get(f"/api/v1/issues/{item['id']}")).raise_for_status().json()
                    return detail
            await asyncio.sleep(0.2)
    raise AssertionError(f"no issue {prefix!r} in control-api after {timeout:.0f}s")


def dsn(watcher: ServiceProcess) -> str:
    return watcher.url.replace("http://", f"http://{DSN_KEY}@") + "/1"


async def test_python_sentry_sdk_event_becomes_an_issue_in_control_api(stack: dict[str, ServiceProcess]) -> None:
    await run_python_client(dsn(stack["watcher"]))
    issue = await issue_titled(stack["control-api"].url, "ZeroDivisionError: division by zero")
    assert issue["target"] == "shop" and issue["service"] == "web"
    assert issue["issue_type"] == "api_error" and issue["status"] in {"detected", "diagnosing"}
    assert issue["affected_users"] == 1 and issue["occurrences"] == 1 and issue["source"] == "sentry"
    assert issue["source"] == "sentry" and "ada@example.com" not in str(issue)  # redacted before it reached the bus
    assert "watcher.issue_detected" in {a["action"] for a in issue["timeline"]}


@pytest.mark.skipif(not node_available(), reason="node is not installed")
async def test_sentry_node_sdk_event_becomes_an_issue_in_control_api(stack: dict[str, ServiceProcess], tmp_path: Path) -> None:
    await run_node_client(dsn(stack["watcher"]), tmp_path)
    issue = await issue_titled(stack["control-api"].url, "TypeError: Cannot read properties of undefined")
    assert issue["target"] == "shop" and issue["service"] == "web"
    assert issue["affected_users"] == 1 and issue["occurrences"] == 1 and issue["source"] == "sentry"
