"""Running the target's tests in a sandbox: timeout, CPU and memory limits, no secrets, no network.

The test command comes from medic.toml and runs as ``bash -c`` (it is the target's own command,
like CI runs it) in the worktree, in its own process group so a timeout kills every child. Its
environment is built from an allow-list — no API keys, tokens or cloud credentials reach it — with
the configured tool directories (the Medic checkout's ``tools/node/node_modules/.bin``, the
Python environment's ``bin``) first on ``PATH``. Where the kernel allows it, ``unshare -n`` gives
it a network namespace with nothing in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from medic_contracts import TestOutcome, TestReport
from medic_runtime import Redactor

from ..domain.test_summary import count_tests, summarise_output

__all__ = ["SandboxLimits", "TestRun", "TestRunner", "ToolRun", "network_isolation_prefix"]

_KEEP_ENV = ("LANG", "LC_ALL", "TZ", "TERM")


@lru_cache(maxsize=1)
def network_isolation_prefix() -> tuple[str, ...]:
    """argv prefix that runs a command without network (``unshare -n``, or ``-rn`` unprivileged); () when unavailable."""
    for prefix in (("unshare", "-n"), ("unshare", "-rn")):
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return prefix
    return ()


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Resource limits of a test run."""

    timeout_s: float = 600.0
    cpu_s: int = 900
    memory_bytes: int = 8 << 30
    isolate_network: bool = True
    tool_paths: tuple[Path, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TestRun:
    """One finished test run: the report for the event and the full (redacted) output."""

    report: TestReport
    output: str
    network_isolated: bool

    @property
    def passed(self) -> bool:
        """True when the command exited 0 within its limits."""
        return self.report.outcome is TestOutcome.PASSED


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One finished run of a tool (a formatter, a linter) given as an argv."""

    returncode: int | None  # None: it could not start or was killed at the timeout
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when the tool exited 0 within its limits."""
        return self.returncode == 0 and not self.timed_out


def _limit(limits: SandboxLimits) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
        # RLIMIT_DATA, not RLIMIT_AS: V8 reserves huge PROT_NONE ranges for WebAssembly that AS would refuse.
        resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class TestRunner:
    """Runs a target's test command in a worktree under :class:`SandboxLimits`."""

    __test__ = False  # not a pytest class

    def __init__(self, limits: SandboxLimits, *, redactor: Redactor | None = None) -> None:
        self.limits = limits
        self.redactor = redactor or Redactor()

    def environment(self, home: Path) -> dict[str, str]:
        """The allow-listed environment a test run gets (no secrets from this process)."""
        path = [str(p) for p in self.limits.tool_paths] + ["/usr/local/bin", "/usr/bin", "/bin"]
        env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
        env.update(
            {
                "PATH": os.pathsep.join(dict.fromkeys(path)),
                "HOME": str(home),
                "TMPDIR": str(home),
                "CI": "true",
                "NODE_ENV": "test",
                "PYTHONDONTWRITEBYTECODE": "1",
                "NO_COLOR": "1",
                "FORCE_COLOR": "0",
            }
        )
        env.update(self.limits.extra_env)
        return env

    async def _spawn(self, argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> tuple[int | None, bytes, bool]:
        """Run ``argv`` under the limits: (exit status, output, timed out); raises OSError if it cannot start."""
        with tempfile.TemporaryDirectory(prefix="medic-test-home-") as home:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env={**self.environment(Path(home)), **env},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # own process group: a timeout kills the whole tree
                preexec_fn=_limit(self.limits),
            )
            timed_out = False
            try:
                raw, _ = await asyncio.wait_for(proc.communicate(), timeout=self.limits.timeout_s)
            except TimeoutError:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                raw = b""
                if proc.stdout is not None:
                    with contextlib.suppress(Exception):
                        raw = await asyncio.wait_for(proc.stdout.read(200_000), timeout=2)
                await proc.wait()
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # stragglers left by a passing run
        return (None if timed_out else proc.returncode), raw, timed_out

    async def run_tool(self, argv: Sequence[str], *, cwd: Path) -> ToolRun:
        """Run a tool given as an argv (never through a shell) in ``cwd`` under the same sandbox as the tests."""
        prefix = network_isolation_prefix() if self.limits.isolate_network else ()
        try:
            code, raw, timed_out = await self._spawn([*prefix, *argv], cwd=cwd, env={})
        except OSError as exc:
            return ToolRun(returncode=None, output=f"could not start: {exc}")
        return ToolRun(returncode=code, output=self.redactor.text(raw.decode("utf-8", "replace"))[-20_000:], timed_out=timed_out)

    async def run(self, command: str, *, cwd: Path, extra_args: Sequence[str] = ()) -> TestRun:
        """Run ``command`` in ``cwd``; never raises for a failing, hanging or crashing suite."""
        prefix = network_isolation_prefix() if self.limits.isolate_network else ()
        # Inside the empty namespace only loopback comes up: suites that start local servers still run.
        script = 'ip link set lo up >/dev/null 2>&1 || true; eval "$MEDIC_TEST_COMMAND"' if prefix else command
        argv = [*prefix, "bash", "-c", script, "medic-test", *extra_args]
        started = time.monotonic()
        try:
            returncode, raw, timed_out = await self._spawn(argv, cwd=cwd, env={"MEDIC_TEST_COMMAND": command})
        except OSError as exc:
            report = TestReport(command=command, outcome=TestOutcome.ERROR, summary=f"could not start: {exc}")
            return TestRun(report=report, output=str(exc), network_isolated=bool(prefix))
        duration = time.monotonic() - started
        output = self.redactor.text(raw.decode("utf-8", "replace"))
        passed, failed = count_tests(output)
        if timed_out:
            outcome = TestOutcome.TIMED_OUT
            summary = f"killed after {self.limits.timeout_s:.0f}s timeout\n" + summarise_output(output)
        elif returncode == 0:
            outcome = TestOutcome.PASSED
            summary = summarise_output(output, max_lines=8)
        else:
            outcome = TestOutcome.FAILED
            summary = f"exit status {returncode}\n" + summarise_output(output)
        report = TestReport(
            command=command,
            outcome=outcome,
            passed=passed,
            failed=failed,
            duration_s=round(duration, 3),
            summary=summary[-4000:],
        )
        return TestRun(report=report, output=output[-100_000:], network_isolated=bool(prefix))
