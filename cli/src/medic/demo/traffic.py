"""Synthetic users of the example shop: ordinary requests to both stages, the bug's request mixed in."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from types import ModuleType
from typing import Any

import httpx

from .scenario import BAD_CHANGE

__all__ = ["Traffic"]


class Traffic:
    """Synthetic users: normal requests to both stages, with the bug-triggering request mixed in."""

    def __init__(self, traffic: ModuleType, *, stages: dict[str, tuple[str, str]], users: int = 3) -> None:
        self.traffic = traffic
        self.stages = stages  # stage → (web base URL, api base URL)
        self.rng = random.Random(7)  # noqa: S311 - a repeatable traffic mix, not a secret
        self.users = [f"usr_{1000 + i * 37}" for i in range(users)]
        self.sent = 0
        self.errors: dict[str, int] = {"staging": 0, "production": 0}
        self.trigger_statuses: list[tuple[float, str, int]] = []
        self.first_error_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def burst(self, client: httpx.AsyncClient, *, stage: str, normal: int, triggers: int) -> None:
        """``normal`` ordinary requests with ``triggers`` bug-triggering ones spread among them."""
        every = max(1, normal // max(1, triggers))
        sent_triggers = 0
        for i in range(normal):
            await self._one(client, stage, self.rng.choice(self.traffic.NORMAL)(self.rng))
            if sent_triggers < triggers and i % every == 0:
                await self._one(client, stage, self.traffic.TRIGGERS[BAD_CHANGE](self.rng), trigger=True)
                sent_triggers += 1

    async def _one(self, client: httpx.AsyncClient, stage: str, call: Any, *, trigger: bool = False) -> None:
        web, api = self.stages[stage]
        base = web if call.service == "web" else api
        user = self.users[self.sent % len(self.users)]
        self.sent += 1
        try:
            response = await client.request(
                call.method, base + call.path, json=call.json, headers={"x-user-id": user, "x-request-id": f"demo-{self.sent}"}
            )
        except httpx.HTTPError:
            return  # a stage being redeployed refuses connections for a moment
        if response.status_code >= 500:
            self.errors[stage] += 1
            if self.first_error_at is None:
                self.first_error_at = time.monotonic()
        if trigger:
            self.trigger_statuses.append((time.monotonic(), stage, response.status_code))

    def start(self) -> None:
        """Keep both stages busy in the background (about 6 requests a second each)."""
        self._task = asyncio.create_task(self._run(), name="demo-traffic")

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                for stage in self.stages:
                    await self.burst(client, stage=stage, normal=3, triggers=1 if self.rng.random() < 0.3 else 0)
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """Stop the background users."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
