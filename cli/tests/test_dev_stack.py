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


def test_dev_up_with_a_target_configures_all_four_agents_the_cli_finds_it_and_dev_down_stops_it(tmp_path: Path) -> None:
    from medic.main import main as medic_main

    examples = Path(__file__).resolve().parents[2] / "examples" / "shop" / "web"
    repo = tmp_path / "web"
    subprocess.run(["cp", "-r", str(examples), str(repo)], check=True)
    subprocess.run(["rm", "-rf", str(repo / "node_modules")], check=True)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(repo)]
    for step in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run([*git, *step], check=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(tmp_path / "remote.git")], check=True)
    subprocess.run([*git, "remote", "add", "origin", str(tmp_path / "remote.git")], check=True)
    assert medic_main(["init", str(repo)]) == 0

    data = tmp_path / "dev"
    medic = Path(sys.executable).with_name("medic")
    log = (tmp_path / "dev.log").open("wb")
    argv = [str(medic), "dev", "up", "--data-dir", str(data), "--broker-port", str(free_port()), "--prefix", f"tgt{os.getpid()}."]
    proc = subprocess.Popen(
        [*argv, "--targets", str(repo / "medic.toml")], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 150
        while not (data / "stack.json").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            time.sleep(0.5)
        state = json.loads((data / "stack.json").read_text())
        for agent in ("watcher", "investigator", "implementer", "releaser"):
            environ = Path(f"/proc/{state['services'][agent]['pid']}/environ").read_bytes().split(b"\0")
            assert f"MEDIC_TARGETS={repo / 'medic.toml'}".encode() in environ, agent
            if agent in ("implementer", "releaser"):
                assert f"MEDIC_TARGET_FILE={repo / 'medic.toml'}".encode() in environ, agent
        clean = {k: v for k, v in os.environ.items() if k not in ("MEDIC_API_URL", "MEDIC_TOKEN")}
        status = subprocess.run(
            [str(medic), "status", "--json"],
            env={**clean, "MEDIC_DEV_DIR": str(data), "MEDIC_CLI_CONFIG": str(tmp_path / "none.toml")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0, status.stdout + status.stderr  # URL and admin token from stack.json
        assert json.loads(status.stdout)["paused"] is False
        tree = descendants(proc.pid)
        down = subprocess.run(
            [str(medic), "dev", "down", "--data-dir", str(data)], capture_output=True, text=True, timeout=120, check=False
        )
        assert down.returncode == 0 and "stopped" in down.stdout, down.stdout + down.stderr
        assert proc.wait(timeout=60) == 0
        time.sleep(0.5)
        assert not {pid for pid in tree if alive(pid)} and not (data / "stack.json").exists()
        again = subprocess.run(
            [str(medic), "dev", "down", "--data-dir", str(data)], capture_output=True, text=True, timeout=60, check=False
        )
        assert again.returncode == 1 and "no dev stack running" in again.stdout
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_dev_up_refuses_a_missing_target_file_or_several_naming_the_problem(tmp_path: Path) -> None:
    from medic.commands.dev import target_env

    with pytest.raises(ValueError, match="no such file"):
        target_env([str(tmp_path / "absent.toml")])
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text("")
    with pytest.raises(ValueError, match="one target per stack"):
        target_env([str(tmp_path / "a.toml"), str(tmp_path / "b.toml")])
    env = target_env([str(tmp_path / "a.toml")])
    assert env == {"MEDIC_TARGETS": str(tmp_path / "a.toml"), "MEDIC_TARGET_FILE": str(tmp_path / "a.toml")}


def test_dev_up_with_a_broker_storage_it_cannot_run_stops_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from medic.main import main

    code = main(["dev", "up", "--data-dir", str(tmp_path / "dev"), "--broker-storage", "postgres://localhost/tansu"])
    assert code == 2
    assert "MEDIC_BROKER_STORAGE: 'postgres://localhost/tansu'" in capsys.readouterr().out
    assert not (tmp_path / "dev").exists()
