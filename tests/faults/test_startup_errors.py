"""A read-only or full data dir stops every service at start-up with one line naming the path and the cause.

Each case runs the real console script in a private mount namespace (``unshare -m``) over a small
tmpfs: remounted read-only, or filled to the last byte. Root can write to a directory without
write bits, so only a real read-only mount or a real full file system shows what operators see.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SERVICES = ("watcher", "investigator", "implementer", "releaser", "control-api")

needs_namespaces = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare(1) for a private tmpfs mount"
)


def run_in_private_tmpfs(mount: Path, prepare: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Mount a 64 KiB tmpfs on ``mount`` in a new mount namespace, run ``prepare``, then exec ``argv``."""
    mount.mkdir(parents=True, exist_ok=True)
    script = f'mount -t tmpfs -o size=64k tmpfs "$1" && {prepare} && shift && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(mount), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def service_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIC_")}
    env.update({"MEDIC_DATA_DIR": str(data_dir), "MEDIC_LOG_FORMAT": "text", "MEDIC_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    return env


def script(service: str) -> str:
    return str(Path(sys.executable).with_name(f"medic-{service}"))


def assert_one_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert lines == [expected], f"expected one line, got {len(lines)}:\n" + "\n".join(lines[:20])


@needs_namespaces
@pytest.mark.parametrize("service", SERVICES)
def test_read_only_data_dir_stops_the_service_with_one_line_naming_path_and_cause(service: str, tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    data = mount / "data"
    # The data dir exists (as after an earlier run) on a file system that is now read-only.
    done = run_in_private_tmpfs(mount, 'mkdir "$1/data" && mount -o remount,ro "$1"', [script(service)], service_env(data))
    assert_one_line(done, f"medic-{service}: cannot write data dir {data}: read-only file system")


@needs_namespaces
@pytest.mark.parametrize("service", SERVICES)
def test_full_data_dir_stops_the_service_with_one_line_naming_path_and_cause(service: str, tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    data = mount / "data"
    fill = 'mkdir "$1/data" && { dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true; }'
    done = run_in_private_tmpfs(mount, fill, [script(service)], service_env(data))
    assert_one_line(done, f"medic-{service}: cannot write data dir {data}: disk full (no space left on device)")
