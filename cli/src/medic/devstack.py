"""The local dev stack: embedded broker, control-api on SQLite and the four agents as processes.

Used by ``medic dev up`` and by ``medic demo``. Every service runs as its own process (its own process
group), with its logs streamed back prefixed by the service name. Stopping sends SIGTERM to each
group (agents first, control-api next, broker last) and SIGKILLs whatever is left after a grace
period, so nothing outlives the stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from medic_contracts import TopicRegistry
from medic_runtime.aio import bounded
from medic_runtime.embedded import EmbeddedBroker, die_with_parent, free_port, process_alive

__all__ = ["SERVICES", "DevStack", "ServiceSpec", "StackConfig", "format_log_line", "read_state", "stop_recorded"]


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A service of the stack: its name, console script and preferred HTTP port."""

    name: str
    script: str
    port: int


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("control-api", "medic-control-api", 8080),
    ServiceSpec("watcher", "medic-watcher", 8081),
    ServiceSpec("investigator", "medic-investigator", 8082),
    ServiceSpec("implementer", "medic-implementer", 8083),
    ServiceSpec("releaser", "medic-releaser", 8084),
)

STATE_FILE = "stack.json"


@dataclass(slots=True)
class StackConfig:
    """How to run the stack."""

    data_dir: Path = Path(".medic/dev")
    broker_port: int | None = None
    bootstrap: str | None = None  # an existing broker: do not start the embedded one
    broker_storage: str | None = None  # the embedded broker's storage engine (memory unless an s3:// bucket)
    prefix: str = "medic."
    env: dict[str, str] = field(default_factory=dict)
    services: tuple[ServiceSpec, ...] = SERVICES
    ready_timeout_s: float = 90.0
    grace_s: float = 15.0
    well_known_ports: bool = True  # 9092 and 8080–8084 when free; False: any free ports (stacks side by side)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def format_log_line(service: str, line: str, *, width: int = 12) -> str:
    """One log line for humans: JSON logs become ``time level message``; other lines pass through."""
    text = line.rstrip()
    try:
        entry = json.loads(text)
    except ValueError:
        return f"{service:<{width}}| {text}"
    if not isinstance(entry, dict):
        return f"{service:<{width}}| {text}"
    ts = str(entry.get("ts", ""))[11:19]
    level = str(entry.get("level", "")).upper()[:5]
    msg = str(entry.get("msg", ""))
    extra = {k: v for k, v in entry.items() if k in ("issue_id", "action", "status", "error")}
    tail = " " + " ".join(f"{k}={v}" for k, v in extra.items()) if extra else ""
    exc = f"\n{entry['exc']}" if entry.get("exc") else ""
    return f"{service:<{width}}| {ts} {level:<5} {msg}{tail}{exc}"


@dataclass(slots=True)
class _Running:
    spec: ServiceSpec
    port: int
    process: asyncio.subprocess.Process
    reader: asyncio.Task[None] | None = None


class DevStack:
    """Start, watch and stop the processes of a local Medic."""

    def __init__(self, config: StackConfig, *, on_line: Callable[[str, str], None] | None = None) -> None:
        self.config = config
        self.on_line = on_line or (lambda svc, line: print(format_log_line(svc, line), flush=True))
        self.broker: EmbeddedBroker | None = None
        self.running: dict[str, _Running] = {}
        self.ports: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        self.instances: dict[str, str] = {}  # service → the instance id its process was given
        self.bootstrap = config.bootstrap or ""

    # ---- start ---------------------------------------------------------------------------------

    def plan_ports(self) -> dict[str, int]:
        """Each service's HTTP port, chosen once: before ``start`` (which calls it), a caller can hand URLs out."""
        if not self.ports:
            # Every port is chosen before anything starts, so each service knows every other's URL.
            taken: set[int] = set()
            for spec in self.config.services:
                wanted = self.config.well_known_ports and _port_free(spec.port) and spec.port not in taken
                port = spec.port if wanted else free_port()
                taken.add(port)
                self.ports[spec.name] = port
        return dict(self.ports)

    async def start(self) -> None:
        """Start the broker (unless one was given), control-api, then the agents; wait until ready."""
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        if not cfg.bootstrap:
            port = cfg.broker_port or (9092 if cfg.well_known_ports and _port_free(9092) else free_port())
            self.broker = EmbeddedBroker(port=port, log_path=cfg.data_dir / "broker.log", storage=cfg.broker_storage)
            await self.broker.start(TopicRegistry(cfg.prefix))
            self.bootstrap = self.broker.bootstrap
        self.plan_ports()
        self.tokens.setdefault("admin", cfg.env.get("MEDIC_BOOTSTRAP_ADMIN_TOKEN") or f"mdc_admin_{secrets.token_urlsafe(24)}")
        self.tokens.setdefault("services", cfg.env.get("MEDIC_CONTROL_API_TOKEN") or f"mdc_svc_{secrets.token_urlsafe(24)}")
        try:
            first, *agents = cfg.services
            await self._spawn(first)
            await self._wait_ready([first.name])
            for spec in agents:
                await self._spawn(spec)
            await self._wait_ready([s.name for s in agents])
        except BaseException:
            await self.stop()
            raise
        self._write_state()

    def service_env(self, spec: ServiceSpec, port: int) -> dict[str, str]:
        """The environment a service process gets."""
        cfg = self.config
        env = {
            **os.environ,
            "MEDIC_KAFKA_BOOTSTRAP": self.bootstrap,
            "MEDIC_TOPIC_PREFIX": cfg.prefix,
            "MEDIC_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "MEDIC_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "MEDIC_DATA_DIR": str(cfg.data_dir.resolve()),
            "MEDIC_HTTP_HOST": "127.0.0.1",
            "MEDIC_HTTP_PORT": str(port),
            "MEDIC_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        if "control-api" in self.ports:
            env["MEDIC_CONTROL_API_URL"] = f"http://127.0.0.1:{self.ports['control-api']}"
        env["MEDIC_SERVICE_URLS"] = json.dumps({name: f"http://127.0.0.1:{p}" for name, p in self.ports.items()})
        env["MEDIC_CONTROL_API_TOKEN"] = self.tokens["services"]
        if spec.name == "control-api":
            env["MEDIC_BOOTSTRAP_ADMIN_TOKEN"] = self.tokens["admin"]
        # A known instance id: readiness checks that the process answering on the port is the one started here.
        env["MEDIC_INSTANCE_ID"] = self.instances.setdefault(spec.name, f"{spec.name}-{secrets.token_hex(4)}")
        env.update({k: v for k, v in cfg.env.items() if k not in ("MEDIC_BOOTSTRAP_ADMIN_TOKEN", "MEDIC_CONTROL_API_TOKEN")})
        return env

    async def _spawn(self, spec: ServiceSpec) -> None:
        port = self.ports[spec.name]
        exe = Path(sys.executable).with_name(spec.script)
        process = await asyncio.create_subprocess_exec(
            str(exe),
            env=self.service_env(spec, port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
            cwd=str(self.config.data_dir.resolve()),
        )
        running = _Running(spec, port, process)
        running.reader = asyncio.create_task(self._pump(running), name=f"logs-{spec.name}")
        self.running[spec.name] = running

    async def _pump(self, running: _Running) -> None:
        stream = running.process.stdout
        assert stream is not None
        while True:
            line = await stream.readline()
            if not line:
                return
            self.on_line(running.spec.name, line.decode("utf-8", "replace"))

    async def _wait_ready(self, names: list[str]) -> None:
        deadline = time.monotonic() + self.config.ready_timeout_s
        pending = set(names)
        async with httpx.AsyncClient(timeout=2.0) as client:
            while pending:
                for name in list(pending):
                    r = self.running[name]
                    if r.process.returncode is not None:
                        raise RuntimeError(f"{name} exited with status {r.process.returncode} during start-up")
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        if (await client.get(f"http://127.0.0.1:{r.port}/readyz")).status_code == 200:
                            health = (await client.get(f"http://127.0.0.1:{r.port}/healthz")).json()
                            if health.get("instance") != self.instances.get(name):
                                # Another process holds the port (it was free when chosen): ours cannot serve.
                                raise RuntimeError(
                                    f"{name}: port {r.port} is answered by another process "
                                    f"({health.get('service')} {health.get('instance')}); stop it or free the port"
                                )
                            pending.discard(name)
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {self.config.ready_timeout_s:.0f}s: {', '.join(sorted(pending))}")
                if pending:
                    await asyncio.sleep(0.2)

    # ---- running -------------------------------------------------------------------------------

    def urls(self) -> dict[str, str]:
        """Base URL of each service."""
        return {name: f"http://127.0.0.1:{r.port}" for name, r in self.running.items()}

    def exited(self) -> dict[str, int]:
        """Services that have exited, with their status."""
        return {n: r.process.returncode for n, r in self.running.items() if r.process.returncode is not None}

    def _write_state(self) -> None:
        state = {
            "supervisor_pid": os.getpid(),  # the process that stops the stack (`medic dev down` signals it)
            "bootstrap": self.bootstrap,
            "prefix": self.config.prefix,
            "broker_pid": self.broker.process.pid if self.broker and self.broker.process else None,
            "services": {
                n: {"pid": r.process.pid, "port": r.port, "url": f"http://127.0.0.1:{r.port}"} for n, r in self.running.items()
            },
            "started_at": time.time(),
            "admin_token": self.tokens["admin"],
        }
        path = self.config.data_dir / STATE_FILE
        path.touch(mode=0o600, exist_ok=True)  # it holds the admin token
        path.write_text(json.dumps(state, indent=2))

    # ---- stop ----------------------------------------------------------------------------------

    async def stop(self) -> None:
        """SIGTERM agents, then control-api, then the broker; SIGKILL what is left after the grace period."""
        order = [n for n in self.running if n != "control-api"] + (["control-api"] if "control-api" in self.running else [])
        for batch in (order[:-1], order[-1:]) if len(order) > 1 else (order,):
            for name in batch:
                _signal_group(self.running[name].process, signal.SIGTERM)
            for name in batch:
                r = self.running[name]
                try:
                    await bounded(r.process.wait(), timeout=self.config.grace_s)
                except TimeoutError:
                    _signal_group(r.process, signal.SIGKILL)
                    await r.process.wait()
                _signal_group(r.process, signal.SIGKILL)  # any child the service left in its group
                if r.reader:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await bounded(r.reader, timeout=2)
        if self.broker:
            await asyncio.to_thread(self.broker.stop)
        with contextlib.suppress(FileNotFoundError):
            (self.config.data_dir / STATE_FILE).unlink()


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _alive(pid: int | None) -> bool:
    return bool(pid) and process_alive(int(pid or 0))


def stop_recorded(data_dir: Path, *, grace_s: float = 30.0) -> str | None:
    """Stop the stack whose state file is in ``data_dir``; a sentence saying how, or None when none runs.

    The supervising ``medic dev up`` gets SIGTERM and stops its services in order (agents, control-api,
    broker) and removes the state file. When it is gone (killed), the recorded processes are signalled
    directly: SIGTERM to each process group, SIGKILL after ``grace_s``.
    """
    state = read_state(data_dir)
    if state is None:
        return None
    recorded = state.get("supervisor_pid")
    supervisor = int(recorded) if isinstance(recorded, int) else None
    path = data_dir / STATE_FILE
    if supervisor is not None and _alive(supervisor):
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + grace_s + 15
        while path.exists() and _alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not path.exists() or not _alive(supervisor):
            return f"stopped the dev stack of {data_dir} (medic dev up, pid {supervisor})"
    pids = [int(info["pid"]) for info in state.get("services", {}).values() if info.get("pid")]
    broker = state.get("broker_pid")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        if broker:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(broker), sig)
        deadline = time.monotonic() + (grace_s if sig is signal.SIGTERM else 5)
        while any(_alive(p) for p in [*pids, broker]) and time.monotonic() < deadline:
            time.sleep(0.2)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return f"stopped {len(pids)} services" + (" and the broker" if broker else "") + f" of {data_dir} directly"


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The state file of a running stack, if there is one."""
    try:
        state: dict[str, Any] = json.loads((data_dir / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return state
