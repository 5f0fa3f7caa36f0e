"""``medic bench api``: control-api's throughput on PostgreSQL beside a bare FastAPI endpoint, and the projector's rate.

Measured in one run, on this machine:

- ``issues_list``: ``GET /api/v1/issues`` (page of 50) with ``issues`` rows in PostgreSQL, one uvicorn worker;
- ``bare``: a bare FastAPI JSON endpoint, one uvicorn worker (the baseline);
- ``event_post``: ``POST /api/v1/events`` of a new IssueDetected (projected with the hash chain);
- ``projector_events_per_s``: events pre-published on the broker, consumed by a control-api process
  through the runtime and projected into PostgreSQL with the hash chain (first publish to last row
  recorded; ``projector_publish_s`` is how long publishing took, on the same machine, inside that window);
- ``projector_batch_events_per_s``: the projector function on batches of 500 in-process (what a batch
  subscription would reach).

Load comes from keep-alive HTTP/1.1 connections on raw asyncio streams (cheap, so the server is what is measured).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    FixStrategy,
    Frequency,
    IssueDetected,
    IssueType,
    Producer,
    Severity,
    TestOutcome,
    TestReport,
)
from medic_runtime.embedded import given_or_embedded

__all__ = ["BenchOptions", "run", "sample_lifecycle"]

ADMIN_DSN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
_SOURCE = Producer(service="bench", instance="bench-1")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to measure and on what."""

    database_url: str = ADMIN_DSN
    issues: int = 100_000
    duration_s: float = 10.0
    concurrency: int = 16
    events: int = 12_000
    kafka: str | None = None


def sample_lifecycle(issue_id: str, t0: datetime) -> list[Envelope]:
    """Six events of one issue's run: detected, investigating, diagnosed, fixed, staging and production promoted."""
    detected = IssueDetected(
        producer=_SOURCE,
        occurred_at=t0,
        issue_id=issue_id,
        target="shop",
        service="web",
        severity=Severity.P2,
        issue_type=IssueType.API_ERROR,
        title="TypeError: Cannot read properties of null (reading 'name')",
        message="TypeError: Cannot read properties of null (reading 'name')",
        fingerprint=issue_id[-16:],
        frequency=Frequency(count=5, window_seconds=300, total=5),
        affected_users=3,
        first_seen=t0,
        last_seen=t0,
        source="sentry",
    )
    brief = detected.brief()
    started = detected.follow_up(
        ActionRecorded, producer=_SOURCE, action="investigator.diagnose", status=ActionStatus.STARTED, summary="diagnosing"
    )
    diagnosis = detected.follow_up(
        DiagnosisReady,
        producer=_SOURCE,
        issue=brief,
        root_cause="null practice",
        affected_file="src/route.ts",
        fix_strategy=FixStrategy.NULL_GUARD,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=5),
        provider="playbook",
    )
    fix = diagnosis.follow_up(
        FixCommitted,
        producer=_SOURCE,
        issue=brief,
        repository="acme/shop",
        branch=f"agent/fix-{issue_id}",
        base_sha="a" * 40,
        commit_sha="f" * 40,
        files_changed=("src/route.ts",),
        diff="--- a/src/route.ts\n+++ b/src/route.ts\n+guard\n",
        diff_hash="sha256:" + "5" * 64,
        strategy=FixStrategy.NULL_GUARD,
        tests=TestReport(command="npm test", outcome=TestOutcome.PASSED, passed=42),
    )
    deployments = [
        fix.follow_up(
            DeploymentResult,
            producer=_SOURCE,
            issue=brief,
            run_id="run",
            stage=stage,
            outcome=DeploymentOutcome.PROMOTED,
            commit_sha="f" * 40,
            occurred_at=t0 + timedelta(minutes=minutes),
        )
        for stage, minutes in ((DeploymentStage.STAGING, 10), (DeploymentStage.PRODUCTION, 20))
    ]
    return [detected, started, diagnosis, fix, *deployments]


# ---- load generation ---------------------------------------------------------------------------


@dataclass(slots=True)
class LoadResult:
    """Requests/s and latency of one measurement."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
            "errors": self.errors,
        }


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, make_request: Callable[[int], bytes], *, duration_s: float, concurrency: int) -> LoadResult:
    """Send requests on ``concurrency`` keep-alive connections for ``duration_s``; latency of each."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**12))
    stop_at = time.perf_counter() + duration_s

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at:
                request = make_request(next(counter))
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                errors += status >= 400
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    return LoadResult(
        len(ordered) / elapsed, statistics.median(ordered) * 1000 if ordered else 0.0, p99 * 1000, len(ordered), errors
    )


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    pid: int, port: int, make_request: Callable[[int], bytes], *, duration_s: float, concurrency: int
) -> dict[str, Any]:
    """A load run plus the server's CPU milliseconds per request: comparable across runs on a busy machine."""
    before = _cpu_seconds(pid)
    result = (await load(port, make_request, duration_s=duration_s, concurrency=concurrency)).as_dict()
    after = _cpu_seconds(pid)
    if before is not None and after is not None and result["requests"]:
        result["server_cpu_ms_per_request"] = round((after - before) * 1000 / result["requests"], 3)
    return result


def _post_of(bodies: list[bytes], headers: dict[str, str]) -> Callable[[int], bytes]:
    return lambda i: _post("/api/v1/events", bodies[i % len(bodies)], headers)


def _constant(request: bytes) -> Callable[[int], bytes]:
    return lambda _i: request


def _get(path: str, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def _post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


# ---- processes and data ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def _process(argv: list[str], env: dict[str, str], port: int, ready_path: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv[-1]} exited: {log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv} not ready: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _database(admin_url: str) -> tuple[str, Callable[[], Any]]:
    import asyncpg

    name = f"medic_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(dsn)
        try:
            await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await c.close()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


async def _load_issues(url: str, count: int) -> None:
    """Migrate, then COPY ``count`` issues in (spread over 90 days, every status and severity)."""
    import asyncpg

    from .db import PG_SCHEMA, migrate, open_engine

    engine, schema = open_engine(url)
    await migrate(engine, schema=schema)
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        now = datetime.now(UTC)
        statuses = ("detected", "diagnosing", "fixing", "awaiting_approval", "deploying", "resolved", "failed", "rolled_back")
        columns = [
            "id",
            "target",
            "service",
            "environment",
            "title",
            "message",
            "fingerprint",
            "severity",
            "issue_type",
            "status",
            "source",
            "affected_users",
            "occurrences",
            "first_seen",
            "last_seen",
            "detected_at",
            "status_changed_at",
            "updated_at",
            "run_id",
            "rollback_count",
            "llm_cost_usd",
            "links",
        ]
        records = []
        for i in range(count):
            at = now - timedelta(seconds=i * 77)
            records.append(
                (
                    f"iss_{i:07d}",
                    "shop",
                    "web",
                    "production",
                    f"TypeError #{i}: Cannot read properties of null",
                    "TypeError ...",
                    f"{i:016x}",
                    f"P{i % 5}",
                    "api_error",
                    statuses[i % len(statuses)],
                    "sentry",
                    i % 50,
                    1 + i % 20,
                    at,
                    at,
                    at,
                    at,
                    at,
                    uuid.uuid4().hex,
                    0,
                    0.0,
                    "[]",
                )
            )
        await conn.copy_records_to_table("agent_issues", schema_name=PG_SCHEMA, columns=columns, records=records)
        await conn.execute(f"ANALYZE {PG_SCHEMA}.agent_issues")
    finally:
        await conn.close()


async def _count_actions(url: str) -> int:
    import asyncpg

    from .db import PG_SCHEMA

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(f"SELECT count(*) AS n FROM {PG_SCHEMA}.agent_actions")  # noqa: S608 - constant schema name
        return int(row["n"])
    finally:
        await conn.close()


async def _publish(bootstrap: str, prefix: str, events: list[Envelope]) -> None:
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


async def _batch_projector_rate(url: str, events: list[Envelope]) -> float:
    from .db import open_engine
    from .projector import Delivered, project

    engine, _ = open_engine(url)
    try:
        started = time.perf_counter()
        for i in range(0, len(events), 500):
            async with engine.begin() as conn:
                await project(conn, [Delivered(e) for e in events[i : i + 500]])
        return len(events) / (time.perf_counter() - started)
    finally:
        await engine.dispose()


async def run(options: BenchOptions, *, log_dir: Path) -> dict[str, Any]:
    """Run every measurement; the JSON-ready result."""
    from medic_contracts import TopicRegistry
    from medic_runtime.kafka_admin import declare_topics

    url, drop = await _database(options.database_url)
    admin = "mdc_bench_" + secrets.token_urlsafe(24)
    auth = {"Authorization": f"Bearer {admin}"}
    try:
        await _load_issues(url, options.issues)
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
            api_port, bare_port = _free_port(), _free_port()
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
                "medic_control.bench_bare:app",
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
                _process(control_argv, api_env, api_port, "/readyz", log_dir / "control-api.log") as api_proc,
                _process(bare_argv, dict(os.environ), bare_port, "/bare", log_dir / "bare.log") as bare_proc,
            ):
                async with httpx.AsyncClient(timeout=10) as client:
                    page = (await client.get(f"http://127.0.0.1:{api_port}/api/v1/issues?limit=50", headers=auth)).json()
                if len(page["items"]) != min(50, options.issues):
                    raise RuntimeError(f"issue list returned {len(page['items'])} items")
                issues_request = _get("/api/v1/issues?limit=50", auth)
                bare_request = _get("/bare", {})
                warm = min(2.0, options.duration_s / 3)
                for port, request in ((api_port, issues_request), (bare_port, bare_request)):
                    await load(port, _constant(request), duration_s=warm, concurrency=options.concurrency)
                result["issues_list"] = await measured(
                    api_proc.pid,
                    api_port,
                    _constant(issues_request),
                    duration_s=options.duration_s,
                    concurrency=options.concurrency,
                )
                result["bare"] = await measured(
                    bare_proc.pid,
                    bare_port,
                    _constant(bare_request),
                    duration_s=options.duration_s,
                    concurrency=options.concurrency,
                )
                t0 = datetime.now(UTC)
                bodies = [
                    json.dumps(sample_lifecycle(f"iss_post_{i:07d}", t0)[0].model_dump(mode="json")).encode()
                    for i in range(int(options.duration_s * 3000))
                ]
                post = _post_of(bodies, auth)
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
            before = await _count_actions(url)
            t0 = datetime.now(UTC) - timedelta(hours=1)
            events = [e for i in range(options.events // 6) for e in sample_lifecycle(f"iss_proj_{i:07d}", t0)]
            projector_port = _free_port()
            projector_env = {**base_env, "MEDIC_HTTP_PORT": str(projector_port), "MEDIC_TOPIC_PREFIX": projector_prefix}
            with _process(control_argv, projector_env, projector_port, "/readyz", log_dir / "projector.log"):
                warmup = sample_lifecycle("iss_proj_warmup", t0)  # every subscription has joined once this is projected
                await _publish(bootstrap, projector_prefix, warmup)
                await _wait_for_rows(url, before + len(warmup), timeout_s=120)
                before += len(warmup)
                published_at = time.time()
                await _publish(bootstrap, projector_prefix, events)
                result["projector_publish_s"] = round(time.time() - published_at, 3)
                await _wait_for_rows(url, before + len(events), timeout_s=600)
            result["projector_events_per_s"] = round(await _projector_rate(url, before, published_at), 1)
            result["projector_events"] = len(events)
            batch_events = [e for i in range(options.events // 6) for e in sample_lifecycle(f"iss_batch_{i:07d}", t0)]
            result["projector_batch_events_per_s"] = round(await _batch_projector_rate(url, batch_events), 1)
            result["machine"] = {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
        from .actions import service as audit
        from .db import open_engine

        engine, _ = open_engine(url)
        async with engine.connect() as conn:
            report = await audit.verify(conn)
        await engine.dispose()
        result["audit_chain_ok"] = report.ok
        result["audit_rows"] = report.rows
        return result
    finally:
        await drop()


async def _wait_for_rows(url: str, rows: int, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while await _count_actions(url) < rows:
        if time.monotonic() > deadline:
            raise RuntimeError(f"projector did not reach {rows} audit rows in {timeout_s:.0f} s")
        await asyncio.sleep(0.2)


async def _projector_rate(url: str, before: int, published_at: float) -> float:
    """Events projected after ``before`` per second, from the first publish to the last row recorded."""
    import asyncpg

    from .db import PG_SCHEMA

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM max(recorded_at)) AS last "  # noqa: S608 - constant schema
            f"FROM {PG_SCHEMA}.agent_actions WHERE seq > $1",
            before,
        )
        return int(row["n"]) / max(float(row["last"]) - published_at, 1e-3)
    finally:
        await conn.close()


def main(options: BenchOptions, *, as_json: bool, log_dir: Path) -> int:
    """Run and print the result (JSON with ``--json``)."""
    result = asyncio.run(run(options, log_dir=log_dir))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0
