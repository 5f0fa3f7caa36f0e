"""Running the target's tests in a sandbox: unprivileged, in private mount, PID and network namespaces.

The test command comes from medic.toml and runs as ``bash -c`` (it is the target's own command,
like CI runs it) in the worktree. Where the kernel allows it (see :mod:`.sandbox`), it runs as the
sandbox user (``nobody`` by default) in new mount, PID and network namespaces: the worktree is the
only host directory it can write (the repository's git dir with its hooks, the home directory, the
rest of the filesystem are read-only), ``/tmp`` and ``$HOME`` are a private tmpfs, ``/proc`` shows
only its own processes, and only loopback exists. Its environment is built from an allow-list — no
API keys, tokens or cloud credentials reach it — with the configured tool directories first on
``PATH``. CPU, memory, process-count and wall-clock limits apply; a timeout kills the whole tree.

When a protection is not available the run still happens with what is, and :attr:`TestRun.sandbox`
(and the report's ``sandboxed``/``sandbox_missing``) says what was missing: the release gate then
asks a human.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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
from medic_runtime.aio import bounded

from ..domain.test_summary import count_tests, summarise_output
from .sandbox import PROTECTIONS, SandboxReport, finish_run, init_argv, plan_run, sandbox_support

__all__ = ["SandboxLimits", "SandboxReport", "TestRun", "TestRunner", "ToolRun", "network_isolation_prefix"]

_KEEP_ENV = ("LANG", "LC_ALL", "TZ", "TERM")
_SANDBOX_HOME = "/tmp/home"  # noqa: S108 - inside the sandbox's private /tmp
_SANDBOX_ENV = {
    "TMPDIR": "/tmp",  # noqa: S108 - the sandbox's private /tmp
    # The repository's git dir is root's (read-only in there): suites that run git must not stop at "dubious ownership".
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
}


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
    sandbox: bool = True  # False: the plain run (process group, rlimits, env allow-list, unshare -n) and sandboxed=False
    sandbox_uid: int = 65534  # nobody
    sandbox_gid: int = 65534  # nogroup
    max_processes: int = 1024  # RLIMIT_NPROC of the sandbox user: bounds a fork bomb (root is exempt from it)
    tmp_bytes: int = 2 << 30  # size of the private /tmp (and $HOME) tmpfs


@dataclass(frozen=True, slots=True)
class TestRun:
    """One finished test run: the report for the event and the full (redacted) output."""

    report: TestReport
    output: str
    network_isolated: bool
    sandbox: SandboxReport = field(default_factory=SandboxReport)

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
    sandbox: SandboxReport = field(default_factory=SandboxReport)

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
        # Resolved: a tool directory reached through a symlink under the host's /tmp must not vanish in the sandbox.
        path = [str(p.resolve()) for p in self.limits.tool_paths] + ["/usr/local/bin", "/usr/bin", "/bin"]
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

    async def _spawn(self, argv: Sequence[str], *, cwd: Path, env: dict[str, str], network: bool) -> _Spawned:
        """Run ``argv`` under the limits, sandboxed when possible; raises OSError if it cannot start at all."""
        if self.limits.sandbox and sandbox_support().namespaces:
            spawned = await self._spawn_sandboxed(argv, cwd=cwd, env=env, network=network)
            if isinstance(spawned, _Spawned):
                return spawned
            missing = tuple(f"{p} ({spawned})" for p in PROTECTIONS)
        elif self.limits.sandbox:
            missing = tuple(f"{p} (kernel refused: {sandbox_support().detail or 'unshare failed'})" for p in PROTECTIONS)
        else:
            missing = tuple(f"{p} (sandbox disabled)" for p in PROTECTIONS)
        return await self._spawn_plain(argv, cwd=cwd, env=env, network=network, missing=missing)

    async def _spawn_sandboxed(self, argv: Sequence[str], *, cwd: Path, env: dict[str, str], network: bool) -> _Spawned | str:
        """The sandboxed run (see :mod:`.sandbox_init`); the reason as a string when the sandbox could not be built."""
        limits, support = self.limits, sandbox_support()
        plan = await asyncio.to_thread(plan_run, cwd, limits.tool_paths, uid=limits.sandbox_uid, gid=limits.sandbox_gid)
        isolated = network and support.network
        status_r, status_w = os.pipe()
        spec = {
            "root": str(plan.base / "root"),
            "cwd": str(await asyncio.to_thread(cwd.resolve)),
            "writable": str(plan.worktree),
            "readonly": [str(p) for p in plan.readonly],
            "hardlinked": [str(p) for p in plan.hardlinked],
            "home": _SANDBOX_HOME,
            "uid": limits.sandbox_uid,
            "gid": limits.sandbox_gid,
            "drop_privileges": os.geteuid() == 0,
            "network_isolated": isolated,
            "tmp_bytes": limits.tmp_bytes,
            "cpu_s": limits.cpu_s,
            "memory_bytes": limits.memory_bytes,
            "max_processes": limits.max_processes,
            "status_fd": status_w,
            "argv": list(argv),
            "env": {**self.environment(Path(_SANDBOX_HOME)), **_SANDBOX_ENV, **env},
        }
        try:
            code, raw, timed_out = await self._communicate(
                [*support.prefix(network=isolated), *init_argv(), json.dumps(spec)],
                cwd=Path("/"),
                env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                pass_fds=(status_w,),
            )
        finally:
            os.close(status_w)
            status = _read_status(status_r)
            await asyncio.to_thread(finish_run, plan)
        if "missing" not in status or "error" in status:
            return str(status.get("error") or raw.decode("utf-8", "replace").strip()[-300:] or "sandbox did not start")
        listed = status["missing"]
        missing = [str(m) for m in listed] if isinstance(listed, list) else ["sandbox status (unreadable)"]
        if not isolated:
            missing.append("network_namespace (" + ("not requested" if not network else "kernel refused") + ")")
        return _Spawned(code, raw, timed_out, SandboxReport(tuple(missing)), isolated)

    async def _spawn_plain(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str], network: bool, missing: tuple[str, ...]
    ) -> _Spawned:
        """The unsandboxed run: own process group, rlimits, env allow-list and ``unshare -n`` where possible."""
        prefix = network_isolation_prefix() if network else ()
        if prefix:  # inside the empty namespace only loopback comes up: suites that start local servers still run
            argv = [*prefix, "bash", "-c", 'ip link set lo up >/dev/null 2>&1 || true; exec "$@"', "medic-lo", *argv]
            missing = tuple(m for m in missing if not m.startswith("network_namespace"))
        with tempfile.TemporaryDirectory(prefix="medic-test-home-") as home:
            code, raw, timed_out = await self._communicate(
                argv, cwd=cwd, env={**self.environment(Path(home)), **env}, preexec_fn=_limit(self.limits)
            )
        return _Spawned(code, raw, timed_out, SandboxReport(missing), bool(prefix))

    async def _communicate(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: dict[str, str],
        pass_fds: tuple[int, ...] = (),
        preexec_fn: Callable[[], None] | None = None,
    ) -> tuple[int | None, bytes, bool]:
        """Run ``argv`` in its own process group: (exit status, output, timed out); a timeout kills the group."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # own process group: a timeout kills the whole tree
            pass_fds=pass_fds,
            preexec_fn=preexec_fn,
        )
        timed_out = False
        try:
            raw, _ = await bounded(proc.communicate(), timeout=self.limits.timeout_s)
        except TimeoutError:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # a sandbox's PID 1 dies with unshare (--kill-child), and with it all
            raw = b""
            if proc.stdout is not None:
                with contextlib.suppress(Exception):
                    raw = await bounded(proc.stdout.read(200_000), timeout=2)
            await proc.wait()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers left by a passing run
        return (None if timed_out else proc.returncode), raw, timed_out

    async def run_tool(self, argv: Sequence[str], *, cwd: Path) -> ToolRun:
        """Run a tool given as an argv (never through a shell) in ``cwd`` under the same sandbox as the tests."""
        try:
            done = await self._spawn(list(argv), cwd=cwd, env={}, network=self.limits.isolate_network)
        except OSError as exc:
            return ToolRun(returncode=None, output=f"could not start: {exc}")
        output = self.redactor.text(done.raw.decode("utf-8", "replace"))[-20_000:]
        return ToolRun(returncode=done.returncode, output=output, timed_out=done.timed_out, sandbox=done.sandbox)

    async def run(self, command: str, *, cwd: Path, extra_args: Sequence[str] = ()) -> TestRun:
        """Run ``command`` in ``cwd``; never raises for a failing, hanging or crashing suite."""
        argv = ["bash", "-c", 'eval "$MEDIC_TEST_COMMAND"', "medic-test", *extra_args]
        started = time.monotonic()
        try:
            done = await self._spawn(argv, cwd=cwd, env={"MEDIC_TEST_COMMAND": command}, network=self.limits.isolate_network)
        except OSError as exc:
            report = TestReport(
                command=command,
                outcome=TestOutcome.ERROR,
                summary=f"could not start: {exc}",
                sandboxed=False,
                sandbox_missing=("could not start",),
            )
            return TestRun(report=report, output=str(exc), network_isolated=False)
        duration = time.monotonic() - started
        output = self.redactor.text(done.raw.decode("utf-8", "replace"))
        passed, failed = count_tests(output)
        if done.timed_out:
            outcome = TestOutcome.TIMED_OUT
            summary = f"killed after {self.limits.timeout_s:.0f}s timeout\n" + summarise_output(output)
        elif done.returncode == 0:
            outcome = TestOutcome.PASSED
            summary = summarise_output(output, max_lines=8)
        else:
            outcome = TestOutcome.FAILED
            summary = f"exit status {done.returncode}\n" + summarise_output(output)
        report = TestReport(
            command=command,
            outcome=outcome,
            passed=passed,
            failed=failed,
            duration_s=round(duration, 3),
            summary=summary[-4000:],
            sandboxed=done.sandbox.sandboxed,
            sandbox_missing=done.sandbox.missing,
        )
        return TestRun(report=report, output=output[-100_000:], network_isolated=done.network_isolated, sandbox=done.sandbox)


@dataclass(frozen=True, slots=True)
class _Spawned:
    returncode: int | None
    raw: bytes
    timed_out: bool
    sandbox: SandboxReport
    network_isolated: bool


def _read_status(fd: int) -> dict[str, object]:
    """What sandbox_init wrote before the exec (``{}`` when it wrote nothing); closes ``fd``."""
    chunks = []
    os.set_blocking(fd, False)
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except BlockingIOError:
        pass  # a writer is still around (it should not be): take what is there
    finally:
        os.close(fd)
    try:
        status = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        return {}
    return status if isinstance(status, dict) else {}
