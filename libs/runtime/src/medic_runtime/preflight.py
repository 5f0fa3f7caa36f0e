"""Start-up checks that turn an unusable data directory into one line an operator can act on.

A read-only or full ``MEDIC_DATA_DIR`` used to surface as a long traceback from deep inside
SQLite or the lifespan, naming neither the path nor the cause. :func:`check_data_dirs` writes a
small probe file into each directory the service will write to (the data dir and the SQLite
store's directory) before anything else starts; :func:`describe_os_error` names the cause in
plain words.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

from .settings import ServiceSettings

__all__ = ["PROBE_BYTES", "DataDirProblem", "check_data_dirs", "check_writable", "describe_os_error", "writable_dirs"]

#: Written and fsynced by the probe: enough that a disk with a few bytes left still counts as full
#: (SQLite's first pages and journal need more than that).
PROBE_BYTES = 16 * 1024

_CAUSES = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "disk full (no space left on device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a path component is not a directory",
    errno.EEXIST: "exists and is not a directory",
    errno.ENOENT: "no such file or directory",
    errno.EIO: "input/output error",
}


@dataclass(frozen=True, slots=True)
class DataDirProblem:
    """A directory the service cannot write to, and why."""

    path: Path
    cause: str

    def line(self, service: str) -> str:
        """The one line printed at start-up, e.g. ``medic-watcher: cannot write data dir /x: read-only file system``."""
        return f"medic-{service}: cannot write data dir {self.path}: {self.cause}"


def describe_os_error(exc: OSError) -> str:
    """The cause of an OS error in plain words ("read-only file system", "disk full ...")."""
    if exc.errno in _CAUSES:
        return _CAUSES[exc.errno]
    return (exc.strerror or str(exc)).lower()


def writable_dirs(settings: ServiceSettings) -> list[Path]:
    """The directories the service writes to at start-up: the data dir, and the SQLite store's directory."""
    dirs = [settings.data_dir]
    url = settings.resolved_store_url()
    if url.startswith("sqlite") and "///" in url:
        database = url.split("///", 1)[1].split("?", 1)[0]
        if database and database != ":memory:":
            dirs.append(Path(database).parent)
    out: list[Path] = []
    for d in dirs:
        resolved = d.expanduser().absolute()
        if resolved not in out:
            out.append(resolved)
    return out


def check_writable(path: Path) -> DataDirProblem | None:
    """Create ``path`` if needed and write, fsync and remove a probe file in it; the problem, or None."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return DataDirProblem(path, describe_os_error(exc))
    probe = path / f".medic-write-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return DataDirProblem(path, describe_os_error(exc))
    finally:
        with contextlib.suppress(OSError):  # the write already failed (read-only): that problem is reported
            probe.unlink(missing_ok=True)
    return None


def check_data_dirs(settings: ServiceSettings) -> DataDirProblem | None:
    """The first directory of :func:`writable_dirs` that cannot be written, or None when all can."""
    for path in writable_dirs(settings):
        problem = check_writable(path)
        if problem is not None:
            return problem
    return None
