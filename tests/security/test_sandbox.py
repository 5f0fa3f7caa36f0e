"""Red team of the implementer's test sandbox: a test command (the model's, or planted in the target repo) attacks.

Each attack runs as the target's test command through the real :class:`TestRunner`, under a parent
process started with a secret in its environment (``sandbox_parent.py``), in a real git worktree whose
git dir is shared with its repository. The attack must fail: no secret in the output, nothing written
outside the worktree, no host process visible or killed, no network, bounded processes, no set-id.
The fixes that go through a real ``implement_fix`` are in ``test_sandbox_fix.py``.
"""

from __future__ import annotations

import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .sandbox_harness import LEAKS, NEEDS_SANDBOX, SECRET, Site, parent, site

__all__ = ["parent", "site"]  # fixtures, imported for pytest

pytestmark = NEEDS_SANDBOX


def no_secret(site: Site, result: dict[str, Any]) -> None:
    text = result["output"] + result["summary"]
    assert not any(leak in text for leak in LEAKS), "the secret reached the test's output"
    loot = site.worktree / "loot"
    assert not (loot.exists() and SECRET.encode() in loot.read_bytes()), "the secret was copied into the worktree"


def absent(*paths: Callable[[Site], Path]) -> Callable[[Site, dict[str, Any]], None]:
    def check(site: Site, result: dict[str, Any]) -> None:
        for path in paths:
            assert not path(site).exists(), f"{path(site)} was written from inside the sandbox"

    return check


def says_not(marker: str) -> Callable[[Site, dict[str, Any]], None]:
    def check(site: Site, result: dict[str, Any]) -> None:
        assert marker not in result["output"], result["output"][-2000:]

    return check


def secret_stays_out(site: Site, result: dict[str, Any]) -> None:
    no_secret(site, result)


def hooks_untouched(site: Site, result: dict[str, Any]) -> None:
    assert not (site.git_dir / "hooks" / "post-commit").exists()
    assert "hooksPath" not in (site.git_dir / "config").read_text()


def shared_inode_unchanged(site: Site, result: dict[str, Any]) -> None:
    assert (site.outside / "shared.txt").read_text() == "original\n"


def no_set_id_bit_left(site: Site, result: dict[str, Any]) -> None:
    planted = site.worktree / "myid"
    assert planted.exists(), result["output"][-2000:]  # the copy itself is a legitimate worktree write
    assert not planted.stat().st_mode & (stat.S_ISUID | stat.S_ISGID)
    assert "EUID=0" not in result["output"]


def no_capabilities(site: Site, result: dict[str, Any]) -> None:
    assert "CAPS=none" in result["output"] and "CAPS=some" not in result["output"], result["output"][-2000:]
    assert "NoNewPrivs:\t1" in result["output"]


def few_processes_forked(site: Site, result: dict[str, Any]) -> None:
    counts = [int(line.split()[1]) for line in result["output"].splitlines() if line.startswith("FORKED ")]
    assert counts and counts[0] < 100, result["output"][-2000:]


def memory_refused(site: Site, result: dict[str, Any]) -> None:
    assert "ALLOCATED" not in result["output"]
    assert result["outcome"] == "failed"


def parent_alive(site: Site, result: dict[str, Any]) -> None:
    # Site.attack already asserted that the parent exited normally with its result.
    assert "KILLED-PARENT" not in result["output"]


PY = "python -c"
ATTACKS: dict[str, tuple[str, Callable[[Site, dict[str, Any]], None]]] = {
    "read /proc/$PPID/environ": ("cat /proc/$PPID/environ > loot; tr '\\0' '\\n' < loot | rev", secret_stays_out),
    "read /proc/1/environ": ("cat /proc/1/environ > loot; tr '\\0' '\\n' < loot | rev", secret_stays_out),
    "read the parent's environ by its host pid": (
        "cat /proc/{parent}/environ > loot; tr '\\0' '\\n' < loot | rev",
        secret_stays_out,
    ),
    "scan every /proc/*/environ": (
        "for f in /proc/[0-9]*/environ; do cat $f; done > loot; tr '\\0' '\\n' < loot | rev",
        secret_stays_out,
    ),
    "read the API key file": ("cat {outside}/anthropic.key > loot; rev loot", secret_stays_out),
    "plant .git/hooks/post-commit": (
        "printf '#!/bin/sh\\ntouch /tmp/hooked\\n' > {git_dir}/hooks/post-commit; chmod +x {git_dir}/hooks/post-commit",
        hooks_untouched,
    ),
    "rewrite .git/config": ("printf '[core]\\n\\thooksPath = /tmp/evil\\n' >> {git_dir}/config", hooks_untouched),
    "write into the worktree's private git dir": (
        "echo evil > \"$(sed -n 's/^gitdir: //p' .git)/medic-evil-{token}\"",
        absent(lambda s: s.git_dir / "worktrees" / "iss_1" / f"medic-evil-{s.token}"),
    ),
    "write /etc": ("echo evil > /etc/medic-evil-{token}", absent(lambda s: Path(f"/etc/medic-evil-{s.token}"))),
    "write /root": ("echo evil > /root/medic-evil-{token}", absent(lambda s: Path(f"/root/medic-evil-{s.token}"))),
    "write the parent's $HOME": (
        "echo evil > {parent_home}/medic-evil-{token}",
        absent(lambda s: s.parent_home / f"medic-evil-{s.token}"),
    ),
    "write /work": ("echo evil > /work/medic-evil-{token}", absent(lambda s: Path(f"/work/medic-evil-{s.token}"))),
    "write outside the worktree": (
        "echo evil > ../medic-evil-{token}; echo evil > {outside}/medic-evil-{token}",
        absent(lambda s: s.worktree.parent / f"medic-evil-{s.token}", lambda s: s.outside / f"medic-evil-{s.token}"),
    ),
    "write a file hard-linked from outside": ("echo pwned > shared-link.txt", shared_inode_unchanged),
    "share /tmp with the host": ("echo evil > /tmp/medic-evil-{token}", absent(lambda s: Path(f"/tmp/medic-evil-{s.token}"))),
    "share /dev/shm with the host": (
        "echo evil > /dev/shm/medic-evil-{token}",
        absent(lambda s: Path(f"/dev/shm/medic-evil-{s.token}")),
    ),
    "see the parent's processes": (
        "test -e /proc/{parent}/status && echo SEEN-PARENT; ps -eo pid,comm | grep -v -e ps -e bash -e grep -e PID"
        " | grep . && echo SEEN-OTHERS",
        lambda s, r: [says_not(marker)(s, r) for marker in ("SEEN-PARENT", "SEEN-OTHERS")] and None,
    ),
    "kill the parent": ("kill -9 {parent} && echo KILLED-PARENT; kill -9 $PPID; true", parent_alive),
    "reach PostgreSQL over TCP": (
        PY + " \"import socket; socket.create_connection(('127.0.0.1', 5432), timeout=3); print('CONNECTED')\"",
        says_not("CONNECTED"),
    ),
    "reach PostgreSQL's unix socket": (
        PY + ' "import socket; s = socket.socket(socket.AF_UNIX); s.settimeout(3); '
        "s.connect('/var/run/postgresql/.s.PGSQL.5432'); print('CONNECTED')\"",
        says_not("CONNECTED"),
    ),
    "reach another local port": (
        PY + " \"import socket; socket.create_connection(('127.0.0.1', int(open('port').read())), timeout=3);"
        " print('CONNECTED')\"",
        says_not("CONNECTED"),
    ),
    "remount the read-only tree in a user namespace": (
        "unshare -rm sh -c 'mount -o remount,bind,rw /etc; touch /etc/medic-evil-{token}' 2>&1;"
        " unshare -rm sh -c 'umount -l /etc; touch /etc/medic-evil-{token}' 2>&1; true",
        absent(lambda s: Path(f"/etc/medic-evil-{s.token}")),
    ),
    "plant a setuid binary": (
        "cp /usr/bin/env ./myid && chmod u+s ./myid && ./myid python -c \"import os; print('EUID=%d' % os.geteuid())\"",
        no_set_id_bit_left,
    ),
    "keep capabilities": (
        'grep NoNewPrivs /proc/self/status; awk \'/^Cap(Eff|Prm|Amb)/ {{print ($2 ~ /^0+$/) ? "CAPS=none" : "CAPS=some"}}\''
        " /proc/self/status",
        no_capabilities,
    ),
}


def _local_listener(site: Site) -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    (site.worktree / "port").write_text(str(listener.getsockname()[1]))
    return listener


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_from_inside_a_test_command_is_refused(site: Site, name: str) -> None:
    command, check = ATTACKS[name]
    listener = _local_listener(site)
    try:
        result = site.attack(command)
    finally:
        listener.close()
    check(site, result)
    no_secret(site, result)


def test_a_fork_bomb_is_bounded_by_the_process_limit(site: Site) -> None:
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(400):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    n += 1\n"
        "print('FORKED', n, flush=True)\n"
    )
    (site.worktree / "bomb.py").write_text(bomb)
    result = site.attack("python bomb.py", max_processes=40, timeout_s=60)
    few_processes_forked(site, result)


def test_a_memory_hog_is_bounded_by_the_memory_limit(site: Site) -> None:
    result = site.attack(PY + " \"b = bytearray(1 << 31); print('ALLOCATED')\"", memory_bytes=256 << 20)
    memory_refused(site, result)


def test_the_worktree_stays_writable_and_keeps_root_ownership_on_disk(site: Site) -> None:
    result = site.attack("echo fixed > app.py && mkdir -p new/dir && echo ok > new/dir/f.txt && id -u && cat app.py")
    assert result["outcome"] == "passed", result["output"][-2000:]
    assert (site.worktree / "app.py").read_text() == "fixed\n"
    created = site.worktree / "new" / "dir" / "f.txt"
    assert created.read_text() == "ok\n" and created.stat().st_uid == 0  # the implementer can commit and remove it
    assert "65534" in result["output"].split()
    assert result["sandboxed"] is True and result["missing"] == []


def test_tools_home_and_tmp_work_inside_the_sandbox(site: Site) -> None:
    script = (
        "import os, tempfile, pathlib\n"
        "pathlib.Path(os.environ['HOME'], '.cache').mkdir()\n"
        "with tempfile.NamedTemporaryFile(dir=os.environ['TMPDIR']) as f: f.write(b'x')\n"
        "print('HOME', os.environ['HOME'])\n"
    )
    (site.worktree / "tools.py").write_text(script)
    result = site.attack(
        "python tools.py && node -e 'console.log(\"node\", process.version)' && git log --oneline -1 && echo done"
    )
    assert result["outcome"] == "passed", result["output"][-2000:]
    assert "HOME /tmp/home" in result["output"] and "initial" in result["output"] and "done" in result["output"]
