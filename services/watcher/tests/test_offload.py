"""CPU work off the event loop: the worker thread and the normalising processes give the same events."""

from __future__ import annotations

import asyncio
import os
import threading

from medic_contracts import utcnow
from medic_runtime.redaction import Redactor
from medic_watcher.domain.normalize import Normaliser
from medic_watcher.offload import Offload, normalise_log_lines

from .test_service import error_lines


async def test_large_batches_normalise_in_worker_processes_exactly_as_on_the_thread() -> None:
    lines = [*error_lines(2_500, users=7).splitlines(), "", "plain ERROR line token=sk_live_abcdefghijklmnop1234"]
    normaliser = Normaliser(redactor=Redactor())
    now = utcnow()
    offload = Offload(processes=2, min_process_batch=1_000)
    try:
        in_processes = await offload.log_lines(normaliser, lines, service="web", now=now)
        pids = await asyncio.gather(
            *(asyncio.get_running_loop().run_in_executor(offload._processes(), os.getpid) for _ in range(4))
        )
    finally:
        offload.close()
    on_thread = normalise_log_lines(normaliser, lines, service="web", now=now)
    assert in_processes == on_thread and len(in_processes) == 2_501
    assert os.getpid() not in pids  # the work ran in other processes
    assert "sk_live_abcdefghijklmnop1234" not in in_processes[-1].message  # redacted there too


async def test_the_worker_thread_runs_jobs_one_at_a_time_off_the_loop() -> None:
    offload = Offload(processes=0)
    order: list[str] = []
    gate = threading.Event()
    try:
        first = asyncio.ensure_future(offload.run(lambda: (gate.wait(30), order.append("first"))))
        second = asyncio.ensure_future(offload.run(lambda: order.append("second")))
        await asyncio.sleep(0.2)
        order.append("loop")  # the loop runs while the thread is blocked
        gate.set()
        await asyncio.gather(first, second)
        thread_names = await offload.run(lambda: threading.current_thread().name)
    finally:
        offload.close()
    assert order == ["loop", "first", "second"]
    assert thread_names.startswith("watcher-cpu") and thread_names != threading.current_thread().name
