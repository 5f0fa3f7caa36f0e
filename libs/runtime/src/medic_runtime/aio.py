"""Timeouts that never swallow a cancellation.

On Python 3.11, ``asyncio.wait_for`` returns the inner result when the waiting task is cancelled in the
same loop iteration as the inner awaitable completes: the cancellation is lost (CPython gh-86296, fixed
in 3.12 by rebuilding ``wait_for`` on ``asyncio.timeout``). A service loop that waits for its wake event
with ``wait_for`` and is woken and cancelled together, as every ``stop()`` does, keeps running: its
``stop()`` waits for it, or gives up and leaves it behind, and the event loop cannot close. ``asyncio.timeout``
is right on 3.11; these two helpers are built on it, and ruff bans ``asyncio.wait_for`` (TID251).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["bounded", "wait_event"]

T = TypeVar("T")


async def bounded(aw: Awaitable[T], timeout: float | None) -> T:
    """Await ``aw`` for at most ``timeout`` seconds (None: no bound); raise ``TimeoutError`` after it.

    What ``asyncio.wait_for`` does, except that a cancellation of the caller always propagates.
    """
    async with asyncio.timeout(timeout):
        return await aw


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; True when it was set."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return event.is_set()
    return True
