"""The test sandbox from the outside: what the kernel allows, and the launch plan of one sandboxed run.

A sandboxed run is ``unshare --mount --pid --fork [--net] --kill-child`` around ``sandbox_init.py`` (which
builds the filesystem view, drops to the sandbox user and execs the command; see its docstring). This
module decides what to expose (the worktree read-write; the repository's git dir and the tool
directories read-only; files hard-linked from outside read-only) and, after the run, strips set-id bits
the test may have put on worktree files (they are root's files on disk).

When the kernel refuses the namespaces (probed once, cached) the run still happens, unsandboxed, and its
:class:`SandboxReport` says which protections were missing: such a fix is not released without approval.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "INIT_SCRIPT",
    "PROTECTIONS",
    "SandboxPlan",
    "SandboxReport",
    "SandboxSupport",
    "exposed_paths",
    "finish_run",
    "git_dirs",
    "hardlinked_files",
    "init_argv",
    "plan_run",
    "sandbox_support",
    "strip_set_id_bits",
    "writable_root",
]

INIT_SCRIPT = Path(__file__).with_name("sandbox_init.py")
PROTECTIONS = ("mount_namespace", "pid_namespace", "network_namespace", "unprivileged_user")
_HIDDEN_TOPS = ("/tmp", "/run", "/var/run", "/dev", "/proc")  # noqa: S108 - replaced by private mounts inside


@dataclass(frozen=True, slots=True)
class SandboxSupport:
    """What the kernel allows here: namespaces (mount + PID), a network namespace, and the unshare argv prefix."""

    namespaces: bool
    network: bool
    detail: str = ""

    def prefix(self, *, network: bool) -> tuple[str, ...]:
        """The ``unshare`` argv that starts the sandbox (a user namespace too when this process is not root)."""
        flags = ["unshare", "--mount", "--pid", "--fork", "--kill-child"]
        if os.geteuid() != 0:
            flags += ["--user", "--map-root-user"]
        if network and self.network:
            flags.append("--net")
        return (*flags, "--")


@dataclass(frozen=True, slots=True)
class SandboxReport:
    """Which protections one run had: ``sandboxed`` only when none is missing."""

    missing: tuple[str, ...] = ()

    @property
    def sandboxed(self) -> bool:
        """True when the run had every protection."""
        return not self.missing


def _probe(argv: Sequence[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run([*argv, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    return done.returncode == 0, done.stderr.decode("utf-8", "replace").strip()[-300:]


@lru_cache(maxsize=1)
def sandbox_support() -> SandboxSupport:
    """Probe once whether mount, PID and network namespaces can be created here (cached for the process)."""
    base = SandboxSupport(namespaces=True, network=True)
    ok, detail = _probe(base.prefix(network=True))
    if ok:
        return base
    without_net = SandboxSupport(namespaces=True, network=False, detail=detail)
    ok, _ = _probe(without_net.prefix(network=False))
    if ok:
        return without_net
    return SandboxSupport(namespaces=False, network=False, detail=detail)


def writable_root(cwd: Path) -> Path:
    """The worktree a run in ``cwd`` may write: the nearest directory holding ``.git``, else ``cwd`` itself."""
    cwd = cwd.resolve()
    for candidate in (cwd, *cwd.parents):
        if (candidate / ".git").exists():
            return candidate
    return cwd


def git_dirs(worktree: Path) -> tuple[Path, ...]:
    """The git directories a worktree uses (its own and the shared common dir with the hooks): bound read-only."""
    dot_git = worktree / ".git"
    if dot_git.is_dir():
        return (dot_git.resolve(),)
    try:
        line = dot_git.read_text().strip()
    except OSError:
        return ()
    if not line.startswith("gitdir:"):
        return ()
    gitdir = (worktree / line.removeprefix("gitdir:").strip()).resolve()
    dirs = [gitdir]
    try:
        common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
    except OSError:
        common = None
    if common is not None and common not in dirs:
        dirs.append(common)
    return tuple(dirs)


def _searchable(path: Path, uid: int, gid: int) -> bool:
    current = Path("/")
    for part in path.parts[1:]:
        current = current / part
        try:
            st = current.stat()
        except OSError:
            return False
        if stat.S_ISDIR(st.st_mode):
            bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
            if not st.st_mode & bit:
                return False
    return True


def _hidden(path: Path, uid: int, gid: int) -> bool:
    """True when ``path`` would not be visible in the sandbox unless bound in explicitly."""
    text = str(path)
    return any(text == top or text.startswith(top + "/") for top in _HIDDEN_TOPS) or not _searchable(path, uid, gid)


def exposed_paths(tool_paths: Sequence[Path], *, uid: int, gid: int) -> tuple[Path, ...]:
    """Read-only paths the tools need that the sandbox would not otherwise show (e.g. a Python under ``/root``).

    A tool directory ``…/bin`` (or ``node_modules/.bin``) is exposed with its parent (the venv, the
    ``node_modules``); each symlinked executable in it with the installation it points into.
    """
    wanted: list[Path] = []
    for given in tool_paths:
        if not given.is_dir():
            continue
        tools = given.resolve()
        wanted.append(tools.parent if tools.name in ("bin", ".bin") else tools)
        for entry in tools.iterdir():
            if entry.is_symlink():
                target = entry.resolve()
                wanted.append(target.parent.parent if target.parent.name == "bin" else target.parent)
    chosen: list[Path] = []
    for path in sorted(set(wanted), key=lambda p: len(p.parts)):
        if path.exists() and _hidden(path, uid, gid) and not any(path.is_relative_to(c) for c in chosen):
            chosen.append(path)
    return tuple(chosen)


def _files(root: Path, skip: tuple[Path, ...]) -> Iterator[tuple[Path, os.stat_result]]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in filenames:
            path = here / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                yield path, st


def hardlinked_files(worktree: Path, *, skip: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Regular files of the worktree with more than one link: their inode may be shared with a file outside."""
    return tuple(path for path, st in _files(worktree, skip) if st.st_nlink > 1)


def strip_set_id_bits(worktree: Path, *, skip: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Clear setuid/setgid bits a test put on worktree files (owned by root on disk); the paths cleared."""
    cleared = []
    for path, st in _files(worktree, skip):
        if st.st_mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~(stat.S_ISUID | stat.S_ISGID), follow_symlinks=False)
            cleared.append(path)
    return tuple(cleared)


@dataclass(frozen=True, slots=True)
class SandboxPlan:
    """What one sandboxed run exposes, decided on the host before the namespaces exist."""

    base: Path  # per-run directory; base/root becomes the new root inside the mount namespace
    worktree: Path  # the one writable host directory
    inside_git: tuple[Path, ...]  # git dirs inside the worktree (skipped by the scans)
    readonly: tuple[Path, ...]
    hardlinked: tuple[Path, ...]


def plan_run(cwd: Path, tool_paths: Sequence[Path], *, uid: int, gid: int) -> SandboxPlan:
    """Decide the exposures of a run in ``cwd`` and make its per-run directory (blocking: walks the worktree)."""
    work = writable_root(cwd)
    gits = git_dirs(work)
    inside = tuple(g for g in gits if g.is_relative_to(work))
    base = Path(tempfile.mkdtemp(prefix="medic-sandbox-", dir="/tmp"))
    (base / "root").mkdir()
    return SandboxPlan(
        base=base,
        worktree=work,
        inside_git=inside,
        readonly=(*gits, *exposed_paths(tool_paths, uid=uid, gid=gid)),
        hardlinked=hardlinked_files(work, skip=inside),
    )


def finish_run(plan: SandboxPlan) -> None:
    """After a run: clear set-id bits it left on (root-owned) worktree files, remove the per-run directory."""
    strip_set_id_bits(plan.worktree, skip=plan.inside_git)
    shutil.rmtree(plan.base, ignore_errors=True)


def init_argv() -> tuple[str, ...]:
    """The interpreter command that runs ``sandbox_init.py`` (isolated mode: no site, no user paths)."""
    return (sys.executable, "-I", "-S", str(INIT_SCRIPT))
