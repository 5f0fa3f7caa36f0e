"""Load generation: keep-alive HTTP/1.1 connections on raw asyncio streams (cheap, so the server is what is measured)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LoadResult", "constant", "get_request", "load", "measured", "posts_of"]


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


def posts_of(bodies: list[bytes], headers: dict[str, str]) -> Callable[[int], bytes]:
    """POST /api/v1/events requests cycling through ``bodies``."""
    return lambda i: _post("/api/v1/events", bodies[i % len(bodies)], headers)


def constant(request: bytes) -> Callable[[int], bytes]:
    """The same request every time."""
    return lambda _i: request


def get_request(path: str, headers: dict[str, str]) -> bytes:
    """A raw HTTP/1.1 GET of ``path`` with ``headers``."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def _post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body
