"""The sandboxed test run: timeouts kill the whole tree, secrets and the network are out of reach."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from medic_contracts import TestOutcome as Outcome
from medic_implementer.adapters.testrun import SandboxLimits, TestRunner, network_isolation_prefix
from medic_implementer.domain.test_summary import count_tests


def runner(**limits: object) -> TestRunner:
    values: dict[str, object] = {"timeout_s": 30, "tool_paths": (Path(sys.executable).parent,)}
    values.update(limits)
    return TestRunner(SandboxLimits(**values))  # type: ignore[arg-type]


async def test_a_hanging_suite_is_killed_at_the_timeout_with_its_children(tmp_path: Path) -> None:
    # Inside the sandbox's PID namespace $! is not a host pid: the child is found by its unique argument.
    token = f"300.{os.getpid()}{time.monotonic_ns() % 100000}"
    command = f"(sleep {token} & wait) ; echo never"
    started = time.monotonic()
    result = await runner(timeout_s=1.5).run(command, cwd=tmp_path)
    assert result.report.outcome is Outcome.TIMED_OUT
    assert time.monotonic() - started < 20
    assert "killed after" in result.report.summary
    assert eventually_gone(token), f"sleep {token} survived the timeout"


def eventually_gone(argument: str, timeout: float = 10.0) -> bool:
    """True once no live (non-zombie) host process has ``argument`` on its command line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if argument.encode() in cmdline and state not in ("Z", "X"):
                alive = True
        if not alive:
            return True
        time.sleep(0.1)
    return False


async def test_a_test_cannot_read_api_keys_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    script = (
        "import os, sys\n"
        "leaked = [k for k in ('ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY') if k in os.environ]\n"
        "sys.exit(1 if leaked else 0)\n"
    )
    (tmp_path / "probe.py").write_text(script)
    result = await runner().run("python probe.py && env", cwd=tmp_path)
    assert result.passed, result.output
    assert "sk-ant-secret-value" not in result.output and "ghp_secret" not in result.output


@pytest.mark.skipif(not network_isolation_prefix(), reason="kernel does not allow unshare -n here")
async def test_a_test_cannot_open_a_socket_to_the_outside(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(
        "import socket, sys\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 5432), timeout=2)\n"
        "except OSError as exc:\n"
        "    print('blocked', exc)\n"
        "    sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    result = await runner().run("python net.py", cwd=tmp_path)
    assert result.network_isolated
    assert result.passed, result.output
    assert "blocked" in result.output


async def test_loopback_still_works_inside_the_sandbox_for_suites_that_start_local_servers(tmp_path: Path) -> None:
    (tmp_path / "lo.py").write_text(
        "import socket\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n"
        "socket.create_connection(server.getsockname(), timeout=2)\n"
        "print('loopback ok')\n"
    )
    result = await runner().run("python lo.py", cwd=tmp_path)
    assert result.passed, result.output


async def test_memory_beyond_the_limit_fails_the_run_instead_of_the_machine(tmp_path: Path) -> None:
    result = await runner(memory_bytes=512 << 20).run("python -c 'x = bytearray(2 << 30)'", cwd=tmp_path)
    assert result.report.outcome is Outcome.FAILED
    assert "MemoryError" in result.output


async def test_a_failing_run_is_summarised_with_counts(tmp_path: Path) -> None:
    result = await runner().run("echo '3 passed, 1 failed in 0.10s'; echo 'FAILED tests/test_x.py::test_y'; exit 1", cwd=tmp_path)
    assert result.report.outcome is Outcome.FAILED
    assert (result.report.passed, result.report.failed) == (3, 1)
    assert "FAILED tests/test_x.py::test_y" in result.report.summary


def test_counts_are_read_from_pytest_node_and_jest_summaries() -> None:
    assert count_tests("== 12 passed, 2 failed in 1.2s ==") == (12, 2)
    assert count_tests("# tests 5\n# pass 4\n# fail 1\n") == (4, 1)
    assert count_tests("Tests:       1 failed, 9 passed, 10 total") == (9, 1)
    assert count_tests("nothing here") == (0, 0)


def test_counts_add_up_over_the_suites_one_test_command_runs() -> None:
    # the example shop's scripts/test.sh: node:test for the web app, then pytest for the API
    output = "# tests 11\n# pass 11\n# fail 0\n# duration_ms 2640.5\n........ [100%]\n8 passed in 1.07s\n"
    assert count_tests(output) == (19, 0)
    assert count_tests("# pass 10\n# fail 1\nFAILED api/test_x.py::t\n1 failed, 7 passed in 0.9s\n") == (17, 2)
    assert count_tests("Tests:       1 failed, 3 passed, 4 total") == (3, 1)  # jest, not mistaken for pytest


async def test_a_tool_directory_reached_through_a_symlink_under_tmp_stays_usable_in_the_sandbox(tmp_path: Path) -> None:
    linked = tmp_path / "tools-bin"
    linked.symlink_to(Path(sys.executable).parent, target_is_directory=True)
    result = await runner(tool_paths=(linked,)).run("ruff --version", cwd=tmp_path)
    assert result.passed, result.output
    assert "ruff" in result.output


async def test_a_sandboxed_run_reports_every_protection_in_its_test_report(tmp_path: Path) -> None:
    result = await runner().run("id -u", cwd=tmp_path)
    assert result.passed, result.output
    assert result.report.sandboxed is True and result.report.sandbox_missing == ()
    assert result.output.split() == ["65534"]


async def test_a_run_without_the_sandbox_names_what_was_missing_and_is_not_sandboxed(tmp_path: Path) -> None:
    result = await runner(sandbox=False).run("id -u", cwd=tmp_path)
    assert result.passed, result.output
    assert result.report.sandboxed is False
    missing = " ".join(result.report.sandbox_missing)
    assert "mount_namespace" in missing and "pid_namespace" in missing and "unprivileged_user" in missing
