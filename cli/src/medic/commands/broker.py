"""``medic broker``: the embedded Kafka-compatible broker (Tansu) with every topic declared."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import TYPE_CHECKING, Any

from medic_runtime.aio import bounded

if TYPE_CHECKING:
    from medic_runtime.embedded import EmbeddedBroker


async def _serve(broker: EmbeddedBroker, prefix: str) -> int:
    from medic_contracts import TopicRegistry

    registry = TopicRegistry(prefix)
    await broker.start(registry)
    kept = "memory-only" if broker.storage.startswith("memory://") else f"stored in {broker.storage}"
    print(f"broker ready on {broker.bootstrap} ({kept}); topics: {', '.join(sorted(registry.partitions()))}", flush=True)
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
    from medic_runtime.embedded import EmbeddedBroker

    try:
        broker = EmbeddedBroker(port=args.port, storage=args.storage or os.environ.get("MEDIC_BROKER_STORAGE"))
    except ValueError as exc:
        print(f"medic broker: {exc}", flush=True)
        return 2
    return asyncio.run(_serve(broker, args.prefix))


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("broker", help="run the embedded broker on 127.0.0.1 and declare topics")
    parser.add_argument("--port", type=int, default=9092, help="listen port (default 9092)")
    parser.add_argument("--prefix", default="medic.", help="topic prefix (default medic.)")
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="memory://tansu/ (default) or s3://BUCKET/ (durable; AWS_* variables; env MEDIC_BROKER_STORAGE)",
    )
    parser.set_defaults(handler=_run)
