"""The start-up preflight names a data dir that cannot be written, and why, in words."""

from __future__ import annotations

import errno
from pathlib import Path

from medic_runtime import ServiceSettings
from medic_runtime.preflight import check_data_dirs, check_writable, describe_os_error, writable_dirs


def test_a_writable_directory_passes_and_keeps_no_probe_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "data"
    assert check_writable(target) is None
    assert target.is_dir() and list(target.iterdir()) == []


def test_a_directory_that_cannot_be_created_is_reported_with_its_path_and_cause() -> None:
    # /proc refuses new entries even to root: a real file system that cannot be written.
    problem = check_writable(Path("/proc/medic-data"))
    assert problem is not None
    assert problem.path == Path("/proc/medic-data")
    assert problem.line("watcher") == f"medic-watcher: cannot write data dir /proc/medic-data: {problem.cause}"
    assert problem.cause == "no such file or directory"


def test_causes_are_named_in_plain_words() -> None:
    assert describe_os_error(OSError(errno.EROFS, "Read-only file system")) == "read-only file system"
    assert describe_os_error(OSError(errno.ENOSPC, "No space left on device")) == "disk full (no space left on device)"
    assert describe_os_error(OSError(errno.EDQUOT, "Disk quota exceeded")) == "disk quota exceeded"
    assert describe_os_error(OSError(errno.ENAMETOOLONG, "File name too long")) == "file name too long"


def test_the_sqlite_store_directory_is_checked_besides_the_data_dir(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path / "data", store_url=f"sqlite+aiosqlite:///{tmp_path / 'db' / 'svc.db'}")
    assert writable_dirs(settings) == [tmp_path / "data", tmp_path / "db"]
    postgres = ServiceSettings(data_dir=tmp_path / "data", store_url="postgresql+asyncpg://u@h/db")
    assert writable_dirs(postgres) == [tmp_path / "data"]


def test_the_first_unwritable_directory_is_the_one_reported(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path / "data", store_url="sqlite+aiosqlite:////proc/medic-store/svc.db")
    problem = check_data_dirs(settings)
    assert problem is not None and problem.path == Path("/proc/medic-store")
