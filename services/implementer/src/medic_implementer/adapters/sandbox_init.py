"""Inside the sandbox's new mount, PID and network namespaces: build the test's filesystem, drop to the sandbox user, exec.

This file runs as its own script (``python -I -S sandbox_init.py SPEC``) as the first process of a new PID
namespace created by ``unshare``; it imports only the standard library and nothing of Medic. It:

1. mounts a fresh tmpfs as the new root and binds the host's top-level directories into it read-only
   (directories the sandbox user could not traverse, such as ``/root``, stay empty), with a private ``/tmp``
   and ``/run`` (tmpfs: no host sockets), a minimal ``/dev`` and a ``/proc`` of the new PID namespace;
2. binds the worktree read-write through an idmapped mount, so the unprivileged sandbox user sees the
   root-owned files as its own and what it writes lands on disk as root (no chown of the checkout, no ACL
   residue); the repository's git dir, tool directories and the files hard-linked from elsewhere read-only;
3. remounts everything except the worktree, ``/tmp`` and ``/dev/shm`` read-only and ``nosuid``;
4. brings loopback up, pivots into the new root, applies the rlimits, switches to the sandbox uid/gid with no
   groups, no capabilities and ``no_new_privs``, and execs the command.

What it managed to apply is written as JSON to the status fd before the exec (the parent records it);
a protection it could not apply is named in ``missing`` and the run goes on without it.
"""

# ruff: noqa: S108 - /tmp, /dev/shm here are paths inside the new root (private tmpfs), not host temp files

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import platform
import resource
import signal
import socket
import stat
import struct
import sys
from typing import Any

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
CLONE_NEWUSER = 0x10000000
# The new mount API has one syscall number on every architecture (424 and up are shared).
SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442
OPEN_TREE_CLONE, AT_EMPTY_PATH, AT_RECURSIVE, MOVE_MOUNT_F_EMPTY_PATH = 1, 0x1000, 0x8000, 0x4
MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_IDMAP = 0x2, 0x4, 0x100000
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24
LINUX_CAPABILITY_VERSION_3 = 0x20080522
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(value: str | None) -> bytes | None:
        return None if value is None else value.encode()

    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def searchable(path: str, uid: int, gid: int) -> bool:
    """True when ``uid``/``gid`` (no supplementary groups) may search the directory ``path`` itself."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return True
    bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
    return bool(st.st_mode & bit)


class Root:
    """The new root being built under ``base``; tracks which of its directories are ours (tmpfs) to create in."""

    def __init__(self, base: str, uid: int, gid: int) -> None:
        self.base, self.uid, self.gid = base, uid, gid
        self.ours: set[str] = {"/"}  # sandbox paths whose directory lives on one of our tmpfs mounts
        self.host_bound: set[str] = set()  # sandbox paths that show a host directory (a bind)
        self.own_view: set[str] = set()  # binds the sandbox user sees as its own (the idmapped worktree)

    def at(self, path: str) -> str:
        return self.base + path if path != "/" else self.base

    def tmpfs(self, path: str, mode: int = 0o755, size: int | None = None, flags: int = MS_NOSUID | MS_NODEV) -> None:
        os.makedirs(self.at(path), exist_ok=True)
        options = f"mode={mode:o}" + (f",size={size}" if size else "")
        mount("tmpfs", self.at(path), "tmpfs", flags, options)
        self.ours.add(path)
        self.host_bound.discard(path)

    def _owner(self, path: str) -> str:
        """The nearest of our tmpfs dirs or host binds containing ``path``."""
        probe = path
        while probe not in self.ours and probe not in self.host_bound:
            probe = os.path.dirname(probe)
        return probe

    def prepare(self, path: str, *, is_dir: bool) -> None:
        """Make ``path`` exist in the new root as a mount point, hiding host directories the sandbox cannot search.

        Nothing is ever created inside a host bind (those are still writable until the final remount): only
        on our own tmpfs mounts.
        """
        parts = [p for p in path.split("/") if p]
        current = "/"
        for index, part in enumerate(parts):
            current = os.path.join(current, part)
            leaf = index == len(parts) - 1
            target = self.at(current)
            if self._owner(current) in self.ours:
                if leaf and not is_dir:
                    if not os.path.lexists(target):
                        open(target, "a").close()  # an empty mount point file
                else:
                    os.makedirs(target, exist_ok=True)
            elif not leaf and self._owner(current) not in self.own_view and not searchable(current, self.uid, self.gid):
                self.tmpfs(current)  # a host directory the sandbox user may not search: hidden under a tmpfs

    def bind(self, source: str, path: str, *, recursive: bool = True) -> None:
        self.prepare(path, is_dir=os.path.isdir(source))
        mount(source, self.at(path), None, MS_BIND | (MS_REC if recursive else 0))
        if os.path.isdir(source):
            self.host_bound.add(path)


def userns_fd(proc: str, uid: int, gid: int) -> int:
    """A user namespace mapping id 0 to ``uid``/``gid``: the idmapping that shows root's files as the sandbox user's.

    ``proc`` is a procfs of this PID namespace (the host's /proc would name another process by this pid).
    """
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only holds the namespace open
        os.close(ready_r)
        os.close(go_w)
        ok = libc.unshare(CLONE_NEWUSER) == 0
        os.write(ready_w, b"1" if ok else b"0")
        os.read(go_r, 1)
        os._exit(0)
    os.close(ready_w)
    os.close(go_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise OSError("unshare(CLONE_NEWUSER) refused")
        with open(f"{proc}/{pid}/uid_map", "w") as f:
            f.write(f"0 {uid} 1\n")
        with open(f"{proc}/{pid}/gid_map", "w") as f:
            f.write(f"0 {gid} 1\n")
        return os.open(f"{proc}/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(go_w)
        os.close(ready_r)
        os.waitpid(pid, 0)


def idmapped_bind(root: Root, source: str, path: str) -> None:
    """Bind ``source`` at ``path`` read-write, with root's files shown as (and written by) the sandbox user."""
    ns = userns_fd(root.at("/proc"), root.uid, root.gid)
    try:
        tree = _check(libc.syscall(SYS_OPEN_TREE, -100, source.encode(), OPEN_TREE_CLONE | os.O_CLOEXEC), f"open_tree {source}")
        try:
            attr = MountAttr(MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, ns)
            _check(
                libc.syscall(SYS_MOUNT_SETATTR, tree, b"", AT_EMPTY_PATH, ctypes.byref(attr), ctypes.sizeof(attr)),
                "mount_setattr idmap",
            )
            root.prepare(path, is_dir=True)
            _check(
                libc.syscall(SYS_MOVE_MOUNT, tree, b"", -100, root.at(path).encode(), MOVE_MOUNT_F_EMPTY_PATH),
                "move_mount",
            )
            root.host_bound.add(path)
            root.own_view.add(path)
        finally:
            os.close(tree)
    finally:
        os.close(ns)


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def remount_read_only(root: Root, writable: set[str]) -> None:
    """Every mount under the new root but ``writable`` becomes read-only, nosuid (and nodev outside /dev)."""
    with open("/proc/self/mountinfo") as f:
        points = [_unescape(line.split()[4]) for line in f]
    dev = root.at("/dev")
    for point in points:
        if point != root.base and not point.startswith(root.base + "/"):
            continue
        inside = point[len(root.base) :] or "/"
        if inside in writable or inside == "/proc":
            continue
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
        if not (point == dev or point.startswith(dev + "/")):
            flags |= MS_NODEV
        mount(None, point, None, flags)


def loopback_up() -> None:
    """Bring ``lo`` up in the new network namespace: suites that start local servers still run."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0x1 | 0x8 | 0x40)  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        fcntl.ioctl(s.fileno(), 0x8914, ifreq)  # SIOCSIFFLAGS


def enter(base: str) -> None:
    """Make the new root the process's root; the old one is detached (pivot_root), or hidden (chroot)."""
    os.chdir(base)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is not None and libc.syscall(number, b".", b".") == 0:
        _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    else:
        os.chroot(".")
    os.chdir("/")


def build(spec: dict[str, Any], missing: list[str]) -> None:
    uid, gid = int(spec["uid"]), int(spec["gid"])
    drop = bool(spec["drop_privileges"])
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = Root(spec["root"], uid if drop else os.getuid(), gid if drop else os.getgid())
    mount("tmpfs", root.base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
    for entry in sorted(os.scandir("/"), key=lambda e: e.name):
        name = "/" + entry.name
        if name in ("/proc", "/dev", "/tmp", "/run", "/sys", "/lost+found"):
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(name), root.at(name))
        elif entry.is_dir() and searchable(name, root.uid, root.gid):
            root.bind(name, name)
        elif entry.is_dir():
            os.mkdir(root.at(name), 0o755)  # the sandbox user may not look inside: an empty stand-in
    root.bind("/sys", "/sys")
    root.tmpfs("/dev", flags=MS_NOSUID)
    for device in DEVICES:
        if os.path.exists("/dev/" + device):
            root.bind("/dev/" + device, "/dev/" + device, recursive=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1")):
        os.symlink(target, root.at("/dev/" + name))
    os.symlink("/proc/self/fd/2", root.at("/dev/stderr"))
    root.tmpfs("/dev/shm", mode=0o1777, size=int(spec["tmp_bytes"]))
    root.tmpfs("/tmp", mode=0o1777, size=int(spec["tmp_bytes"]))
    root.tmpfs("/run")
    os.makedirs(root.at("/proc"), exist_ok=True)
    mount("proc", root.at("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)

    writable = {"/tmp", "/dev/shm"}
    work = spec["writable"]
    exposures = [(p, False) for p in spec["readonly"] if os.path.exists(p)] + [(work, True)]
    # Shallow first, the worktree before what sits inside it (a .git directory is bound read-only over it).
    for path, rw in sorted(exposures, key=lambda x: (x[0].count("/"), not x[1])):
        if rw and drop:
            try:
                idmapped_bind(root, path, path)
            except OSError as exc:
                missing.append(f"unprivileged_user ({exc.strerror or exc}: ran as uid 0 without capabilities)")
                drop = False
                root.bind(path, path)
        else:
            root.bind(path, path)
        if rw:
            writable.add(path)
    for linked in spec["hardlinked"]:
        root.bind(linked, linked, recursive=False)  # the same inode lives outside the worktree: read-only

    remount_read_only(root, writable)
    home = root.at(spec["home"])
    os.makedirs(home, mode=0o700, exist_ok=True)
    if drop:
        os.chown(home, uid, gid)
    if spec["network_isolated"]:
        try:
            loopback_up()
        except OSError as exc:
            missing.append(f"loopback ({exc.strerror})")
    enter(root.base)
    spec["drop_privileges"] = drop


def limit(spec: dict[str, Any]) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (spec["cpu_s"], spec["cpu_s"]))
    # RLIMIT_DATA, not RLIMIT_AS: V8 reserves huge PROT_NONE ranges for WebAssembly that AS would refuse.
    resource.setrlimit(resource.RLIMIT_DATA, (spec["memory_bytes"], spec["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (spec["max_processes"], spec["max_processes"]))


def drop_capabilities() -> None:
    """Stay uid 0 but without any capability, now or after an exec (the fallback when the uid cannot change).

    Root's files stay writable by owner bits (the worktree), but nothing can be remounted, no device made,
    no other user's process signalled or traced.
    """
    last = int(open("/proc/sys/kernel/cap_last_cap").read())  # noqa: SIM115 - one small read
    for cap in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): all empty
    _check(libc.capset(header, data), "capset")


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to another uid: every capability goes with it
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def main() -> None:
    spec: dict[str, Any] = json.loads(sys.argv[1])
    status_fd = int(spec["status_fd"])
    missing: list[str] = []
    try:
        build(spec, missing)
        os.chdir(spec["cwd"])
        limit(spec)
        if spec["drop_privileges"]:
            drop_privileges(int(spec["uid"]), int(spec["gid"]))
        else:
            if os.getuid() == 0:
                drop_capabilities()
            _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        # A uid change clears the parent-death signal unshare --kill-child set: set it again.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError as exc:
        os.write(status_fd, json.dumps({"error": str(exc), "missing": missing}).encode())
        os.close(status_fd)
        sys.exit(125)
    os.write(status_fd, json.dumps({"missing": missing, "uid": os.getuid()}).encode())
    os.close(status_fd)
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])  # noqa: S606 - the target's own command, as an argv


if __name__ == "__main__":
    main()
