"""`medic dev up` starts the broker and five services as processes; SIGTERM leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from medic_runtime.embedded import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def descendants(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_dev_up_starts_everything_healthy_and_sigterm_leaves_no_process(tmp_path: Path) -> None:
    data = tmp_path / "dev"
    medic = Path(sys.executable).with_name("medic")
    log = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [str(medic), "dev", "up", "--data-dir", str(data), "--broker-port", str(free_port()), "--prefix", f"dev{os.getpid()}."],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        state_file = data / "stack.json"
        deadline = time.monotonic() + 150
        while not state_file.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            time.sleep(0.5)
        assert state_file.exists(), (tmp_path / "dev.log").read_text()[-3000:]
        state = json.loads(state_file.read_text())
        assert set(state["services"]) == {"control-api", "watcher", "investigator", "implementer", "releaser"}
        for name, info in state["services"].items():
            assert httpx.get(info["url"] + "/healthz", timeout=5).status_code == 200, name

        status = subprocess.run(
            [str(medic), "dev", "status", "--data-dir", str(data)], capture_output=True, text=True, timeout=60, check=False
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert "releaser" in status.stdout and "ready" in status.stdout

        tree = descendants(proc.pid)
        assert len(tree) >= 6  # broker + five services
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        time.sleep(0.5)
        left = {pid for pid in tree if alive(pid)}
        assert not left, f"processes left behind: {left}"
        assert not state_file.exists()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)  # let the stack stop its services
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_services_do_not_outlive_a_dev_stack_killed_with_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "dev"
    medic = Path(sys.executable).with_name("medic")
    log = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [str(medic), "dev", "up", "--data-dir", str(data), "--broker-port", str(free_port()), "--prefix", f"kill{os.getpid()}."],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 150
        while not (data / "stack.json").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            time.sleep(0.5)
        tree = descendants(proc.pid)
        assert len(tree) >= 6
        os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up: the kernel tells the children
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while {pid for pid in tree if alive(pid)} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not {pid for pid in tree if alive(pid)}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
