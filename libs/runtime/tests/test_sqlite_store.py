"""The SQLite service store runs statements on the event loop, and waits for another process's lock off it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from medic_runtime.store import ServiceStore, processed_events

HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO processed_events VALUES ('other', 'held', 0)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


async def test_write_waits_for_another_process_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    store = ServiceStore(f"sqlite+aiosqlite:///{db}", service="lock-test")
    await store.create_all()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db), "0.6"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == "locked\n"
        gaps: list[float] = []

        async def tick() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        async with store.transaction() as conn:
            await store.mark_processed(conn, "mine", ["evt-1"])
        waited = time.monotonic() - started
        ticker.cancel()
        # The write had to wait for the other process's commit, and the loop kept running meanwhile.
        assert waited > 0.2
        assert max(gaps) < 0.2
        async with store.engine.connect() as conn:
            rows = (await conn.execute(select(processed_events.c.consumer, processed_events.c.event_id))).all()
        assert sorted(tuple(r) for r in rows) == [("mine", "evt-1"), ("other", "held")]
    finally:
        holder.wait(timeout=10)
        await store.close()


async def test_rolled_back_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = ServiceStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", service="rollback-test")
    await store.create_all()
    try:
        try:
            async with store.transaction() as conn:
                await store.mark_processed(conn, "c", ["evt-1"])
                raise RuntimeError("handler failed")
        except RuntimeError:
            pass
        async with store.transaction() as conn:
            assert await store.already_processed(conn, "c", ["evt-1"]) == set()
            await store.mark_processed(conn, "c", ["evt-2"])
        async with store.transaction() as conn:
            assert await store.already_processed(conn, "c", ["evt-1", "evt-2"]) == {"evt-2"}
    finally:
        await store.close()


async def test_committed_writes_reach_the_database_file_through_background_checkpoints(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    store = ServiceStore(f"sqlite+aiosqlite:///{db}", service="checkpoint-test")
    await store.create_all()
    try:
        size_before = db.stat().st_size
        for batch in range(4):
            async with store.transaction() as conn:
                await store.mark_processed(conn, f"consumer-{'x' * 150}", [f"{batch}-{n:058d}" for n in range(1000)])
            await asyncio.sleep(0.3)  # past the checkpoint interval
        async with store.transaction():
            pass  # the last commit starts the last checkpoint
        assert store._checkpointing is not None
        await store._checkpointing
        # SQLite's own auto-checkpoint waits for far more pages: the file grew because the store checkpointed.
        assert db.stat().st_size > size_before + 500_000
    finally:
        await store.close()
    async with ServiceStore(f"sqlite+aiosqlite:///{db}", service="checkpoint-test").engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(processed_events))).scalar_one()
    assert count == 4000
