"""An embedded broker a test can stop and start again on the same port (memory-only Tansu: every state is lost)."""

from __future__ import annotations

import asyncio
import time

from medic_runtime.embedded import EmbeddedBroker

__all__ = ["RestartableBroker"]


class RestartableBroker:
    """An embedded broker that a test can stop and start again on the same port (state lost)."""

    def __init__(self) -> None:
        self.broker = EmbeddedBroker()
        self.port = self.broker.port

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def start(self, declare: dict[str, int] | None = None) -> None:
        asyncio.run(self.broker.start(declare))

    def stop(self) -> None:
        self.broker.stop()

    def restart(self, *, down_s: float = 1.0, declare: dict[str, int] | None = None) -> None:
        """Stop the broker, wait, start a new one on the same port (empty: with only ``declare``'s topics)."""
        self.stop()
        time.sleep(down_s)
        self.broker = EmbeddedBroker(port=self.port)
        asyncio.run(self.broker.start(declare))
