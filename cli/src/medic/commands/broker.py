"""``medic broker``: the embedded Kafka-compatible broker (Tansu) with every topic declared."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from medic_runtime.aio import bounded


async def _serve(port: int, prefix: str) -> int:
    from medic_contracts import TopicRegistry
    from medic_runtime.embedded import EmbeddedBroker

    broker = EmbeddedBroker(port=port)
    registry = TopicRegistry(prefix)
    await broker.start(registry)
    print(f"broker ready on {broker.bootstrap} (memory-only); topics: {', '.join(sorted(registry.partitions()))}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set() and broker.alive():
        try:
            await bounded(stop.wait(), timeout=1.0)
        except TimeoutError:
            continue
    code = 0 if broker.alive() else 1
    await asyncio.to_thread(broker.stop)
    print("broker stopped", flush=True)
    return code


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args.port, args.prefix))


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("broker", help="run the embedded broker on 127.0.0.1 and declare topics")
    parser.add_argument("--port", type=int, default=9092, help="listen port (default 9092)")
    parser.add_argument("--prefix", default="medic.", help="topic prefix (default medic.)")
    parser.set_defaults(handler=_run)
