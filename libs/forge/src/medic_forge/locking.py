"""An asyncio-friendly exclusive file lock (``flock``), shared by processes and coroutines alike.

Each acquisition opens its own file description, so two coroutines of one process exclude each
other exactly as two processes do; waiting polls with ``LOCK_NB`` and sleeps, so the event loop
never blocks on another holder.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from .model import ForgeLockTimeoutError

__all__ = ["file_lock"]


@asynccontextmanager
async def file_lock(path: Path, *, timeout_s: float = 300.0) -> AsyncIterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``async with`` body."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() >= deadline:
                    raise ForgeLockTimeoutError(f"{path}: still locked after {timeout_s:g}s") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
