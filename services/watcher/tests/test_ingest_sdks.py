"""The official Sentry SDKs (Python sentry-sdk, @sentry/node) sending to a running watcher, up to IssueDetected on the bus."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from medic_contracts import TopicName, TopicRegistry
from medic_runtime import ServiceSettings

from .live import live_watcher, write_toml
from .test_service import issues_on_bus, wait_for

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = ROOT / "tools" / "node" / "node_modules"

PYTHON_CLIENT = """
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], default_integrations=False, release="shop@1.4.2", environment="production")
sentry_sdk.set_user({"id": "user-7", "email": "ada@example.com"})


def launch(campaign):
    return campaign["budget"] / campaign["days"]


try:
    launch({"budget": 10, "days": 0})
except ZeroDivisionError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=20)
"""

NODE_CLIENT = """
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2], defaultIntegrations: false, release: "shop@2.0.0", environment: "production" });
Sentry.setUser({ id: "user-9" });
function loadCart(cart) { return cart.items.length; }
try { loadCart(undefined); } catch (err) { Sentry.captureException(err); }
Sentry.flush(20000).then((ok) => process.exit(ok ? 0 : 3));
"""


def ingest_source(**extra: object) -> dict[str, object]:
    return {"kind": "sentry_ingest", "name": "sdk", "project_id": "1", "keys_env": "TEST_DSN_KEYS", **extra}


async def run_client(argv: list[str], *, env: dict[str, str] | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, out.decode(errors="replace")


async def test_python_sentry_sdk_event_becomes_an_issue_detected_on_the_bus(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("TEST_DSN_KEYS", "oldkey,pubkey123")
    toml = write_toml(tmp_path, ingest_source())
    async with live_watcher(service_settings, toml) as (url, watcher):
        dsn = url.replace("http://", "http://pubkey123@") + "/1"
        await run_client([sys.executable, "-c", PYTHON_CLIENT, dsn])
        (issue,) = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=1, timeout=60)
        await wait_for(lambda: watcher.pushes.queued == 0, timeout=30)
        status = watcher.status()["targets"]["shop"]["sdk"]
    assert issue.title.startswith("ZeroDivisionError: division by zero")
    assert issue.source == "sentry" and issue.release == "shop@1.4.2"
    assert any(f.function == "launch" for f in issue.frames)
    assert "ada@example.com" not in issue.model_dump_json()  # redacted on the way, as polled events are
    assert status["kind"] == "sentry_ingest" and status["events"] == 1 and status["status"] == "ok"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_sentry_node_sdk_event_becomes_an_issue_detected_on_the_bus(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if not (NODE_MODULES / "@sentry" / "node").is_dir():
        subprocess.run(["bash", str(ROOT / "scripts" / "install-node-tools.sh")], check=True, timeout=600)
    monkeypatch.setenv("TEST_DSN_KEYS", "nodekey")
    toml = write_toml(tmp_path, ingest_source())
    script = tmp_path / "client.cjs"
    script.write_text(NODE_CLIENT)
    async with live_watcher(service_settings, toml) as (url, _):
        dsn = url.replace("http://", "http://nodekey@") + "/1"
        await run_client(["node", str(script), dsn], env={"NODE_PATH": str(NODE_MODULES)})
        (issue,) = await issues_on_bus(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), at_least=1, timeout=60)
    assert issue.title.startswith("TypeError: Cannot read properties of undefined")
    assert issue.source == "sentry" and issue.release == "shop@2.0.0"
    assert any(f.function == "loadCart" for f in issue.frames)
    assert issue.affected_users == 1
