"""Timeouts that keep a cancellation: the wake-and-cancel-together race that ``asyncio.wait_for`` loses on 3.11."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from medic_runtime.aio import bounded, wait_event


async def _loop(wait: str, event: asyncio.Event, rounds: list[int]) -> None:
    """A service loop: wait for the wake event (or a timeout), then go round again."""
    while True:
        if wait == "wait_event":
            await wait_event(event, 0.5)
        else:
            with contextlib.suppress(TimeoutError):
                await bounded(event.wait(), 0.5)
        event.clear()
        rounds.append(1)


@pytest.mark.parametrize("wait", ["wait_event", "bounded"])
async def test_a_loop_woken_and_cancelled_in_the_same_step_is_cancelled(wait: str) -> None:
    event, rounds = asyncio.Event(), []
    task = asyncio.create_task(_loop(wait, event, rounds))
    await asyncio.sleep(0.01)
    event.set()  # what every stop() does: wake the loop, then cancel it
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done and task.cancelled(), "the loop went round again instead of ending"
    assert rounds == []


async def test_bounded_returns_the_result_and_raises_timeout_error_after_its_bound() -> None:
    async def value() -> int:
        return 7

    assert await bounded(value(), 1) == 7
    with pytest.raises(TimeoutError):
        await bounded(asyncio.sleep(5), 0.05)


async def test_wait_event_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.05) is False
    event.set()
    assert await wait_event(event, 0.05) is True
