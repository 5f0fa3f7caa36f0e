"""The flood benchmark behind ``medic bench watcher-flood``: does a flooded watcher stay live?

Starts a watcher process (its own SQLite store, an embedded broker unless one is given) on a
target with a log file source and a Sentry ingest source, then for ``duration`` seconds appends
``rate`` error lines per second to the log file and posts ``push_rate`` events per second to the
ingest endpoint, while probing ``/healthz`` every 50 ms. Reports the probes' p50/p99/max latency
(a probe that times out counts at its timeout), the process's peak RSS, how pushes were answered
(429s are backpressure, not errors), and how long after the flood the watcher had read every line
and drained every accepted push (catch-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from medic_runtime.aio import bounded
from medic_runtime.embedded import given_or_embedded

__all__ = ["FloodOptions", "run"]

KEY = "floodkey"
PROBE_EVERY_S = 0.05
ROUTES = ("/api/campaigns/launch", "/api/cart", "/api/checkout", "/api/search", "/api/users/:id")


@dataclass(frozen=True, slots=True)
class FloodOptions:
    """What to flood with and for how long."""

    rate: int = 10_000
    push_rate: int = 1_000
    push_batch: int = 50
    duration_s: float = 30.0
    probe_timeout_s: float = 3.0
    catch_up_timeout_s: float = 600.0
    kafka: str | None = None
    keep_dir: Path | None = None


@dataclass(slots=True)
class _Push:
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _rss_with_workers_mb(pid: int) -> float:
    return _rss_mb(pid) + sum(_rss_mb(child) for child in _children(pid))


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _write_flood(path: Path, rate: int, duration_s: float, written_out: Any) -> None:
    """Append ``rate`` JSON error lines per second in 10 ms ticks (a process of its own: no GIL shared with the probe)."""
    written = 0
    started = time.monotonic()
    with path.open("a", buffering=1024 * 1024) as fh:
        while True:
            elapsed = time.monotonic() - started
            if elapsed >= duration_s:
                break
            due = min(int(rate * duration_s), int(rate * (elapsed + 0.01)))
            now = datetime.now(UTC).isoformat()
            lines = []
            for i in range(written, due):
                route = ROUTES[i % len(ROUTES)]
                lines.append(
                    json.dumps(
                        {
                            "ts": now,
                            "level": "error",
                            "msg": f"request failed after {i % 97} retries",
                            "route": route,
                            "method": "POST",
                            "status": 500,
                            "user_id": f"u{i % 500}",
                        }
                    )
                )
            if lines:
                fh.write("\n".join(lines) + "\n")
                fh.flush()
                written = due
            time.sleep(max(0.0, started + elapsed + 0.01 - time.monotonic()))
    written_out.value = written


def _envelope(start: int, count: int) -> bytes:
    parts = [json.dumps({"sent_at": datetime.now(UTC).isoformat()}).encode()]
    for n in range(start, start + count):
        event = {
            "event_id": f"{n:032x}",
            "level": "error",
            "platform": "node",
            "exception": {"values": [{"type": "TypeError", "value": f"Cannot read properties of undefined (reading 'id{n % 7}')",
                                      "stacktrace": {"frames": [{"filename": "/app/src/cart.ts", "function": "loadCart",
                                                                 "lineno": 10 + n % 7, "in_app": True}]}}]},
            "user": {"id": f"u{n % 300}"},
        }  # fmt: skip
        payload = json.dumps(event).encode()
        parts += [json.dumps({"type": "event", "length": len(payload)}).encode(), payload]
    return b"\n".join(parts) + b"\n"


async def _push_flood(client: httpx.AsyncClient, options: FloodOptions, push: _Push) -> None:
    if options.push_rate <= 0:
        return
    interval = options.push_batch / options.push_rate
    started = time.monotonic()
    sent_requests = 0
    pending: set[asyncio.Task[None]] = set()

    async def one(start: int) -> None:
        began = time.monotonic()
        try:
            answer = await client.post(
                "/api/1/envelope/", content=_envelope(start, options.push_batch), params={"sentry_key": KEY}, timeout=30
            )
        except httpx.HTTPError:
            push.errors += 1
            return
        push.latencies.append(time.monotonic() - began)
        if answer.status_code == 200:
            push.accepted += options.push_batch
        elif answer.status_code == 429:
            push.refused += options.push_batch
        else:
            push.errors += 1

    while time.monotonic() - started < options.duration_s:
        task = asyncio.create_task(one(push.sent))
        pending.add(task)
        task.add_done_callback(pending.discard)
        push.sent += options.push_batch
        sent_requests += 1
        await asyncio.sleep(max(0.0, started + sent_requests * interval - time.monotonic()))
    if pending:
        await asyncio.wait(pending, timeout=60)


async def _probe(base: str, options: FloodOptions, stop: asyncio.Event, latencies: list[float], timeouts: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        while not stop.is_set():
            began = time.monotonic()
            try:
                await client.get("/healthz", timeout=options.probe_timeout_s)
                latencies.append(time.monotonic() - began)
            except httpx.HTTPError:
                latencies.append(options.probe_timeout_s)
                timeouts.append(1)
            await asyncio.sleep(max(0.0, began + PROBE_EVERY_S - time.monotonic()))


async def _sample_rss(pid: int, stop: asyncio.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], _rss_mb(pid))
        peak[1] = max(peak[1], _rss_with_workers_mb(pid))
        await asyncio.sleep(0.1)


def _target(root: Path) -> Path:
    (root / "app.log").write_text("")
    (root / "medic.toml").write_text(
        "\n".join(
            [
                "[target]",
                'name = "shop"',
                'repo = "."',
                'language = "typescript"',
                'test_command = "npm test"',
                "",
                "[[sources]]",
                'kind = "logfile"',
                'name = "app"',
                'path = "app.log"',
                "interval_s = 1",
                "",
                "[[sources]]",
                'kind = "sentry_ingest"',
                'name = "sdk"',
                'project_id = "1"',
                'keys_env = "FLOOD_DSN_KEYS"',
                "events_per_s = 100000",
                "burst = 100000",
                "",
            ]
        )
    )
    return root / "medic.toml"


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _wait_ready(base: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"watcher exited: {await asyncio.to_thread(_tail, log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"watcher not ready: {await asyncio.to_thread(_tail, log)}")


async def _caught_up(base: str, *, lines: int, pushed: int, timeout_s: float) -> float | None:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base) as client:
        while time.monotonic() - started < timeout_s:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                status = (await client.get("/sources", timeout=10)).json()
                sources = status["targets"]["shop"]
                if sources["app"]["events"] >= lines and sources["sdk"]["events"] >= pushed:
                    return round(time.monotonic() - started, 2)
            await asyncio.sleep(0.2)
    return None


async def _run(options: FloodOptions, work: Path) -> dict[str, Any]:
    toml = _target(work)
    port = _free_port()
    async with given_or_embedded(options.kafka) as bootstrap:
        env = {
            **os.environ,
            "MEDIC_TARGETS": str(toml),
            "MEDIC_KAFKA_BOOTSTRAP": bootstrap,
            "MEDIC_TOPIC_PREFIX": f"flood{port}.",
            "MEDIC_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "MEDIC_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "MEDIC_DATA_DIR": str(work),
            "MEDIC_HTTP_HOST": "127.0.0.1",
            "MEDIC_HTTP_PORT": str(port),
            "MEDIC_LOG_LEVEL": "WARNING",
            "MEDIC_CONTROL_CATCH_UP_TIMEOUT_S": "5",
            "FLOOD_DSN_KEYS": KEY,
        }
        log = work / "watcher.log"
        exe = Path(sys.executable).with_name("medic-watcher")
        with await asyncio.to_thread(log.open, "wb") as out:
            proc = await asyncio.create_subprocess_exec(
                str(exe), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                base = f"http://127.0.0.1:{port}"
                await _wait_ready(base, proc, log)
                idle_rss = _rss_mb(proc.pid)
                stop_probe = asyncio.Event()
                latencies: list[float] = []
                timeouts: list[int] = []
                peak = [idle_rss, _rss_with_workers_mb(proc.pid)]
                probe = asyncio.create_task(_probe(base, options, stop_probe, latencies, timeouts))
                rss = asyncio.create_task(_sample_rss(proc.pid, stop_probe, peak))
                push = _Push()
                spawn = multiprocessing.get_context("spawn")
                written = spawn.Value("q", 0)
                writer = spawn.Process(
                    target=_write_flood, args=(work / "app.log", options.rate, options.duration_s, written), daemon=True
                )
                writer.start()
                async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=64)) as client:
                    await _push_flood(client, options, push)
                await asyncio.to_thread(writer.join, options.duration_s + 60)
                lines = int(written.value)
                flood_latencies = list(latencies)
                flood_timeouts = len(timeouts)
                catch_up = await _caught_up(base, lines=lines, pushed=push.accepted, timeout_s=options.catch_up_timeout_s)
                stop_probe.set()
                await asyncio.gather(probe, rss)
                final = _rss_mb(proc.pid)
            finally:
                if proc.returncode is None:
                    proc.terminate()
                    try:
                        await bounded(proc.wait(), 30)
                    except TimeoutError:
                        proc.kill()
                        await proc.wait()
    return {
        "rate_lines_per_s": options.rate,
        "push_events_per_s": options.push_rate,
        "duration_s": options.duration_s,
        "lines_written": lines,
        "healthz": {
            **_quantiles(flood_latencies),
            "probes": len(flood_latencies),
            "timeouts": flood_timeouts,
            "after_flood": _quantiles(latencies[len(flood_latencies) :]),
        },
        "push": {
            "events_sent": push.sent,
            "events_accepted": push.accepted,
            "events_refused_429": push.refused,
            "errors": push.errors,
            **{f"request_{k}": v for k, v in _quantiles(push.latencies).items()},
        },
        "rss_mb": {"idle": round(idle_rss, 1), "peak": round(peak[0], 1), "after": round(final, 1)},
        "peak_rss_mb": round(peak[0], 1),
        "peak_rss_with_workers_mb": round(peak[1], 1),
        "catch_up_s": catch_up,
        "caught_up": catch_up is not None,
    }


def run(options: FloodOptions) -> dict[str, Any]:
    """Run the flood once; the JSON-ready result."""
    if options.keep_dir is not None:
        options.keep_dir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(_run(options, options.keep_dir))
    with tempfile.TemporaryDirectory(prefix="medic-bench-flood-") as tmp:
        return asyncio.run(_run(options, Path(tmp)))
