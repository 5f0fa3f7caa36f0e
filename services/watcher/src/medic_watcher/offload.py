"""Where the watcher's CPU work runs: never on the event loop.

- One worker thread runs the stateful steps (template mining, anomaly baselines, issue folding)
  and small parsing jobs: one thread, so that state is only ever touched by it.
- Worker processes (``MEDIC_NORMALISE_PROCESSES``, default 1; 0 = none) normalise large batches
  of log lines: normalising is mostly redaction regexes, stateless, and in another process it
  neither holds this process's GIL (which the event loop needs to answer) nor is limited to one
  core. Small batches stay on the thread: shipping them costs more than it saves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from .domain.normalize import Normaliser
from .domain.observed import ObservedEvent

__all__ = ["Offload", "normalise_log_lines"]

T = TypeVar("T")
PART_LINES = 250


def normalise_log_lines(normaliser: Normaliser, lines: Sequence[str], *, service: str, now: datetime) -> list[ObservedEvent]:
    """Non-blank log lines as events (the unit of work a worker process runs)."""
    return [normaliser.log_line(line, service=service, now=now) for line in lines if line.strip()]


def _lower_priority() -> None:
    # A worker process yields the CPU to the watcher's own process: on a busy node health checks,
    # pushes and the broker come before catching up on a backlog of log lines.
    with contextlib.suppress(OSError):
        os.nice(10)


class Offload:
    """The worker thread and, for big batches, the normalising processes."""

    def __init__(self, *, processes: int = 0, min_process_batch: int = 1_000) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watcher-cpu")
        self.processes = processes
        self.min_process_batch = min_process_batch
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, functools.partial(fn, *args, **kwargs))

    def _processes(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: this process has threads (the loop's, the store's, the worker's).
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
            )
        return self._pool

    async def log_lines(
        self, normaliser: Normaliser, lines: Sequence[str], *, service: str, now: datetime
    ) -> list[ObservedEvent]:
        """Normalise log lines: a big batch in the worker processes (split across them), a small one on the thread."""
        if self.processes <= 0 or len(lines) < self.min_process_batch:
            return await self.run(normalise_log_lines, normaliser, lines, service=service, now=now)
        loop = asyncio.get_running_loop()
        pool = self._processes()
        # Parts of at most PART_LINES: the results are unpickled here holding the GIL, and a small
        # part keeps each such stretch short, so the event loop is never held up for long.
        size = min(PART_LINES, -(-len(lines) // self.processes))
        parts = [list(lines[i : i + size]) for i in range(0, len(lines), size)]
        done = await asyncio.gather(
            *(
                loop.run_in_executor(pool, functools.partial(normalise_log_lines, normaliser, part, service=service, now=now))
                for part in parts
            )
        )
        return [event for part in done for event in part]

    def close(self) -> None:
        """Stop the thread and the processes (work still queued is dropped: its cursor was not saved).

        The Offload stays usable: a runtime started again gets a fresh thread (threads start on first use).
        """
        self.thread.shutdown(wait=False, cancel_futures=True)
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watcher-cpu")
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
