"""A watcher served over real HTTP on a free port, for clients that need a socket (the Sentry SDKs, floods)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn

from medic_runtime import ServiceRuntime, ServiceSettings
from medic_runtime.aio import bounded
from medic_watcher.app import build_watcher
from medic_watcher.settings import WatcherSettings
from medic_watcher.worker import Watcher


@asynccontextmanager
async def serving(rt: ServiceRuntime) -> AsyncIterator[str]:
    """Serve ``rt.http`` (its lifespan starts and stops the runtime) in this loop; yield the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(rt.http, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(600):  # generous: the machine is shared
            if server.started or task.done():
                break
            await asyncio.sleep(0.1)
        if task.done():
            task.result()
        assert server.started, "watcher did not start serving"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await bounded(task, timeout=60)
        sock.close()


@asynccontextmanager
async def live_watcher(
    service_settings: Callable[..., ServiceSettings], toml: Path, **overrides: object
) -> AsyncIterator[tuple[str, Watcher]]:
    """A watcher on ``toml`` serving real HTTP; yields (base URL, watcher)."""
    settings = service_settings("watcher", cls=WatcherSettings, targets=str(toml), **overrides)
    rt, watcher = build_watcher(settings)  # type: ignore[arg-type]
    async with serving(rt) as url:
        yield url, watcher


def write_toml(root: Path, *sources: dict[str, object]) -> Path:
    """A medic.toml for target ``shop`` with ``sources``."""
    import json

    lines = ["[target]", 'name = "shop"', 'repo = "."', 'language = "typescript"', 'test_command = "npm test"', ""]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in source.items()]
        lines.append("")
    (root / "medic.toml").write_text("\n".join(lines))
    return root / "medic.toml"
