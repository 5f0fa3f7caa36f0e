"""Run Medic service processes in tests: start, wait for health, stop (SIGTERM) or kill (SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from medic_runtime.embedded import die_with_parent, free_port

__all__ = ["ServiceProcess"]


class ServiceProcess:
    """One service process with its HTTP port, log file and environment."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], log_dir: Path, port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.argv = list(argv)
        self.env = {**env, "MEDIC_HTTP_PORT": str(self.port), "MEDIC_HTTP_HOST": "127.0.0.1"}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def console_script(cls, name: str, script: str, **kwargs: Any) -> ServiceProcess:
        """A process running an installed console script (``medic-watcher``...) of this venv."""
        exe = Path(sys.executable).with_name(script)
        return cls(name, [str(exe)], **kwargs)

    @classmethod
    def module(cls, name: str, module: str, **kwargs: Any) -> ServiceProcess:
        """A process running ``python -m module``."""
        return cls(name, [sys.executable, "-m", module], **kwargs)

    @property
    def url(self) -> str:
        """Base URL of its HTTP endpoints."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        """Start it (its own process group, so a kill takes its children too)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - a crashed test run must not leave services behind
        )
        return self

    def wait_healthy(self, timeout: float = 30.0, *, ready: bool = True) -> None:
        """Wait until ``/readyz`` (or ``/healthz``) answers 200; raise with the log tail otherwise."""
        path = "/readyz" if ready else "/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy after {timeout:.0f}s:\n{self.log_tail()}")

    def health(self) -> dict[str, Any]:
        """The ``/healthz`` body."""
        body: dict[str, Any] = httpx.get(self.url + "/healthz", timeout=1.0).json()
        return body

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of its log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, SIGKILL if needed; return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log:
            self._log.close()
            self._log = None
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash: nothing is flushed)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
