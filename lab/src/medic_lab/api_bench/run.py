"""One ``medic bench api`` run: the HTTP measurements, then the projector's, then the audit chain check."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from medic_runtime.embedded import given_or_embedded

from .events import sample_lifecycle
from .load import constant, get_request, load, measured, posts_of
from .processes import free_port, server_process
from .projection import batch_projector_rate, publish
from .store import count_actions, load_issues, projector_rate, temporary_database, wait_for_rows

__all__ = ["ADMIN_DSN", "BenchOptions", "main", "run"]

ADMIN_DSN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to measure and on what."""

    database_url: str = ADMIN_DSN
    issues: int = 100_000
    duration_s: float = 10.0
    concurrency: int = 16
    events: int = 12_000
    kafka: str | None = None


async def run(options: BenchOptions, *, log_dir: Path) -> dict[str, Any]:
    """Run every measurement; the JSON-ready result."""
    from medic_contracts import TopicRegistry
    from medic_runtime.kafka_admin import declare_topics

    url, drop = await temporary_database(options.database_url)
    admin = "mdc_bench_" + secrets.token_urlsafe(24)
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        await load_issues(url, options.issues)
        async with given_or_embedded(options.kafka) as bootstrap:
            api_prefix, projector_prefix = f"bench{uuid.uuid4().hex[:6]}.", f"benchp{uuid.uuid4().hex[:6]}."
            for prefix in (api_prefix, projector_prefix):
                await declare_topics(bootstrap, TopicRegistry(prefix))
            base_env = {
                **os.environ,
                "MEDIC_STORE_URL": url,
                "MEDIC_KAFKA_BOOTSTRAP": bootstrap,
                "MEDIC_KAFKA_SESSION_TIMEOUT_MS": "2000",
                "MEDIC_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
                "MEDIC_BOOTSTRAP_ADMIN_TOKEN": admin,
                "MEDIC_WRITE_RATE_PER_MINUTE": str(10**9),
                "MEDIC_WRITE_BURST": str(10**9),
                "MEDIC_LOG_LEVEL": "WARNING",
                "MEDIC_DATA_DIR": str(log_dir),
                "MEDIC_SNAPSHOT_INTERVAL_S": "600",
            }
            control_argv = [sys.executable, "-c", "from medic_control.app import main; main()"]
            api_port, bare_port = free_port(), free_port()
            api_env = {
                **base_env,
                "MEDIC_HTTP_PORT": str(api_port),
                "MEDIC_TOPIC_PREFIX": api_prefix,
                "MEDIC_PROJECTOR_ENABLED": "false",
            }
            bare_argv = [
                sys.executable,
                "-m",
                "uvicorn",
                "medic_lab.api_bench.bare_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(bare_port),
                "--workers",
                "1",
                "--log-level",
                "warning",
                "--no-access-log",
            ]
            result: dict[str, Any] = {
                "issues": options.issues,
                "concurrency": options.concurrency,
                "duration_s": options.duration_s,
            }
            with (
                server_process(control_argv, api_env, api_port, "/readyz", log_dir / "control-api.log") as api_proc,
                server_process(bare_argv, dict(os.environ), bare_port, "/bare", log_dir / "bare.log") as bare_proc,
            ):
                async with httpx.AsyncClient(timeout=10) as client:
                    page = (await client.get(f"http://127.0.0.1:{api_port}/api/v1/issues?limit=50", headers=auth)).json()
                if len(page["items"]) != min(50, options.issues):
                    raise RuntimeError(f"issue list returned {len(page['items'])} items")
                issues_request = get_request("/api/v1/issues?limit=50", auth)
                bare_request = get_request("/bare", {})
                warm = min(2.0, options.duration_s / 3)
                for port, request in ((api_port, issues_request), (bare_port, bare_request)):
                    await load(port, constant(request), duration_s=warm, concurrency=options.concurrency)
                result["issues_list"] = await measured(
                    api_proc.pid,
                    api_port,
                    constant(issues_request),
                    duration_s=options.duration_s,
                    concurrency=options.concurrency,
                )
                result["bare"] = await measured(
                    bare_proc.pid,
                    bare_port,
                    constant(bare_request),
                    duration_s=options.duration_s,
                    concurrency=options.concurrency,
                )
                t0 = datetime.now(UTC)
                bodies = [
                    json.dumps(sample_lifecycle(f"iss_post_{i:07d}", t0)[0].model_dump(mode="json")).encode()
                    for i in range(int(options.duration_s * 3000))
                ]
                post = posts_of(bodies, auth)
                result["event_post"] = await measured(
                    api_proc.pid, api_port, post, duration_s=options.duration_s, concurrency=options.concurrency
                )
            result["issues_list_vs_bare"] = round(result["issues_list"]["rps"] / max(result["bare"]["rps"], 1e-9), 3)
            if "server_cpu_ms_per_request" in result["issues_list"] and result["issues_list"]["server_cpu_ms_per_request"]:
                # What the throughput ratio is when the server, not a busy machine, is the limit.
                result["issues_list_vs_bare_cpu"] = round(
                    result["bare"]["server_cpu_ms_per_request"] / result["issues_list"]["server_cpu_ms_per_request"], 3
                )

            # Projector through the broker and the runtime: a projector process is up and subscribed, then
            # the events are published; the rate runs from the first publish to the last row recorded.
            before = await count_actions(url)
            t0 = datetime.now(UTC) - timedelta(hours=1)
            events = [e for i in range(options.events // 6) for e in sample_lifecycle(f"iss_proj_{i:07d}", t0)]
            projector_port = free_port()
            projector_env = {**base_env, "MEDIC_HTTP_PORT": str(projector_port), "MEDIC_TOPIC_PREFIX": projector_prefix}
            with server_process(control_argv, projector_env, projector_port, "/readyz", log_dir / "projector.log"):
                warmup = sample_lifecycle("iss_proj_warmup", t0)  # every subscription has joined once this is projected
                await publish(bootstrap, projector_prefix, warmup)
                await wait_for_rows(url, before + len(warmup), timeout_s=120)
                before += len(warmup)
                published_at = time.time()
                await publish(bootstrap, projector_prefix, events)
                result["projector_publish_s"] = round(time.time() - published_at, 3)
                await wait_for_rows(url, before + len(events), timeout_s=600)
            result["projector_events_per_s"] = round(await projector_rate(url, before, published_at), 1)
            result["projector_events"] = len(events)
            batch_events = [e for i in range(options.events // 6) for e in sample_lifecycle(f"iss_batch_{i:07d}", t0)]
            result["projector_batch_events_per_s"] = round(await batch_projector_rate(url, batch_events), 1)
            result["machine"] = {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
        from medic_control.actions import service as audit
        from medic_control.db import open_engine

        engine, _ = open_engine(url)
        async with engine.connect() as conn:
            report = await audit.verify(conn)
        await engine.dispose()
        result["audit_chain_ok"] = report.ok
        result["audit_rows"] = report.rows
        return result
    finally:
        await drop()


def main(options: BenchOptions, *, as_json: bool, log_dir: Path) -> int:
    """Run and print the result (JSON with ``--json``)."""
    result = asyncio.run(run(options, log_dir=log_dir))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0
