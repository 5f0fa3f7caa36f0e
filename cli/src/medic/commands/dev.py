"""``medic dev up`` / ``status`` / ``down``: the whole system on one machine, as separate processes."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from medic_runtime.aio import bounded


def target_env(targets: list[str]) -> dict[str, str]:
    """The environment that points every agent at the target files: the watcher and investigator read all
    of them (``MEDIC_TARGETS``), the implementer and releaser the one they heal (``MEDIC_TARGET_FILE``)."""
    paths = [os.path.abspath(t) for t in targets]
    for path in paths:
        if not os.path.isfile(path):
            raise ValueError(f"--targets: no such file: {path}")
    if len(paths) > 1:
        raise ValueError("--targets: the implementer and releaser heal one target per stack; give one medic.toml")
    return {"MEDIC_TARGETS": ",".join(paths), "MEDIC_TARGET_FILE": paths[0]} if paths else {}


def _up_sync(args: argparse.Namespace) -> int:
    from medic_runtime.embedded import broker_storage

    env = dict(item.split("=", 1) for item in args.env or [])
    try:
        env.update(target_env(args.targets or []))
        args.broker_storage = broker_storage(args.broker_storage or os.environ.get("MEDIC_BROKER_STORAGE"))
    except ValueError as exc:
        print(f"medic dev up: {exc}", flush=True)
        return 2
    return asyncio.run(_up(args, env))


async def _up(args: argparse.Namespace, env: dict[str, str]) -> int:
    from medic.devstack import DevStack, StackConfig

    stack = DevStack(
        StackConfig(
            data_dir=Path(args.data_dir),
            broker_port=args.broker_port,
            bootstrap=args.bootstrap,
            broker_storage=args.broker_storage,
            prefix=args.prefix,
            env=env,
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    start = asyncio.create_task(stack.start())
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({start, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        start.cancel()
        await stack.stop()
        return 130
    waiter.cancel()
    try:
        start.result()
    except (RuntimeError, TimeoutError) as exc:
        print(f"medic dev up: {exc}", flush=True)
        return 1
    print(f"\nbroker        {stack.bootstrap}", flush=True)
    for name, url in stack.urls().items():
        print(f"{name:<13} {url}", flush=True)
    print(f"dashboard     {stack.urls()['control-api']}/dashboard/agent-control", flush=True)
    print(f"admin token   {stack.tokens['admin']}   (also in {Path(args.data_dir) / 'stack.json'})", flush=True)
    print("Ctrl-C stops everything.\n", flush=True)
    code = 0
    while not stop.is_set():
        try:
            await bounded(stop.wait(), timeout=1.0)
        except TimeoutError:
            if exited := stack.exited():
                print(f"medic dev up: exited unexpectedly: {exited}", flush=True)
                code = 1
                break
    print("stopping…", flush=True)
    await stack.stop()
    print("stopped", flush=True)
    return code


def _print_sources(report: dict[str, Any]) -> None:
    """Each watched source's state under the watcher's line; a failing source is named with its error."""
    for target, sources in sorted(report.get("targets", {}).items()):
        for source, health in sorted(sources.items()):
            state = health.get("status", "?")
            error = f": {health.get('last_error')}" if state == "error" and health.get("last_error") else ""
            print(f"{'':<13} source {target}/{source}: {state}{error}")


def _status(args: argparse.Namespace) -> int:
    import httpx

    from medic.devstack import read_state

    state = read_state(Path(args.data_dir))
    if state is None:
        print(f"no dev stack running from {args.data_dir}")
        return 1
    print(f"broker {state['bootstrap']}")
    healthy = True
    for name, info in state["services"].items():
        try:
            health = httpx.get(info["url"] + "/healthz", timeout=2).json()
            ready = httpx.get(info["url"] + "/readyz", timeout=5)
            checks = ready.json().get("checks", {})
            failing = [k for k, v in checks.items() if not v]
            status = "ready" if ready.status_code == 200 else f"not ready ({', '.join(failing)})"
            paused = " paused: " + health["pause_reason"] if health.get("paused") else ""
            print(f"{name:<13} pid {info['pid']:<7} {info['url']:<24} {status}{paused}")
            healthy &= ready.status_code == 200
            if name == "watcher":
                _print_sources(httpx.get(info["url"] + "/sources", timeout=5).json())
        except httpx.HTTPError as exc:
            print(f"{name:<13} pid {info['pid']:<7} {info['url']:<24} down ({type(exc).__name__})")
            healthy = False
    return 0 if healthy else 1


def _down(args: argparse.Namespace) -> int:
    from medic.devstack import stop_recorded

    data_dir = Path(args.data_dir)
    result = stop_recorded(data_dir, grace_s=args.grace)
    if result is None:
        print(f"no dev stack running from {data_dir}")
        return 1
    print(result)
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("dev", help="run the whole system locally (broker + five services)")
    actions = parser.add_subparsers(dest="dev_action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the embedded broker, control-api on SQLite and the four agents")
    up.add_argument("--data-dir", default=".medic/dev", help="stores, logs and state file (default .medic/dev)")
    up.add_argument("--broker-port", type=int, default=None, help="embedded broker port (default 9092, or a free one)")
    up.add_argument("--bootstrap", default=None, help="use this Kafka instead of the embedded broker")
    up.add_argument(
        "--broker-storage",
        default=None,
        metavar="URL",
        help="the embedded broker's storage: memory://tansu/ (default) or s3://BUCKET/ to survive a broker restart "
        "(endpoint and keys from AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; env MEDIC_BROKER_STORAGE)",
    )
    up.add_argument("--prefix", default="medic.", help="topic prefix")
    up.add_argument(
        "--targets", nargs="*", default=None, help="the medic.toml of the target to heal (configures all four agents)"
    )
    up.add_argument("--env", action="append", metavar="KEY=VALUE", help="extra environment for every service")
    up.set_defaults(handler=_up_sync)
    status = actions.add_parser("status", help="health of each process of a running dev stack")
    status.add_argument("--data-dir", default=".medic/dev")
    status.set_defaults(handler=_status)
    down = actions.add_parser("down", help="stop the dev stack running from --data-dir (started by `medic dev up`)")
    down.add_argument("--data-dir", default=".medic/dev")
    down.add_argument("--grace", type=float, default=30.0, help="seconds to wait before killing what is left")
    down.set_defaults(handler=_down)
