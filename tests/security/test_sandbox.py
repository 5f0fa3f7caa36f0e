"""Red team of the implementer's test sandbox: a test command (the model's, or planted in the target repo) attacks.

Each attack runs as the target's test command through the real :class:`TestRunner`, under a parent
process started with a secret in its environment (``sandbox_parent.py``), in a real git worktree whose
git dir is shared with its repository. The attack must fail: no secret in the output, nothing written
outside the worktree, no host process visible or killed, no network, bounded processes, no set-id.
The last tests go through a real ``implement_fix``.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medic_implementer.adapters.sandbox import sandbox_support
from medic_testing.implementer import PY_DB, PY_MAIN_BUG, PY_MAIN_GOOD, PY_TEST, PY_TEST_COMMAND, git, make_repo

PARENT = Path(__file__).with_name("sandbox_parent.py")
SECRET = "medic-sandbox-secret-" + uuid.uuid4().hex
# The output is redacted, so an attack also prints the secret reversed and copies it into the worktree.
LEAKS = (SECRET, SECRET[::-1], base64.b64encode(SECRET.encode()).decode()[:24])

pytestmark = pytest.mark.skipif(
    not sandbox_support().namespaces or os.geteuid() != 0,
    reason="needs root and a kernel that allows mount/PID namespaces (CI and these machines)",
)


class Parent:
    """The implementer-side process (``sandbox_parent.py``), started with the secret in its environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.home = Path(env["HOME"])
        self.proc = subprocess.Popen(
            [sys.executable, str(PARENT)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.pid = json.loads(self.stdout.readline())["ready"]

    def ask(self, mode: str, spec: dict[str, Any], out: Path) -> dict[str, Any]:
        """One request; the forked child must exit normally (an attack that kills it fails the test)."""
        out.unlink(missing_ok=True)
        self.stdin.write(json.dumps({**spec, "mode": mode, "out": str(out)}) + "\n")
        self.stdin.flush()
        answer = json.loads(self.stdout.readline())
        assert os.WIFEXITED(answer["status"]) and out.exists(), f"the implementer side did not survive: {answer}"
        result: dict[str, Any] = json.loads(out.read_text())
        return result

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parent]:
    home = tmp_path_factory.mktemp("parent-home")
    home.chmod(0o700)
    env = {**os.environ, "ANTHROPIC_API_KEY": SECRET, "MEDIC_ANTHROPIC_API_KEY": SECRET, "HOME": str(home)}
    server = Parent(env)
    yield server
    server.close()


@dataclass
class Site:
    """A repository with a linked worktree (as the implementer makes), and host files beside it."""

    root: Path
    repo: Path
    worktree: Path
    outside: Path
    parent_home: Path
    token: str

    @property
    def git_dir(self) -> Path:
        return self.repo / ".git"

    parent: Parent

    def attack(self, command: str, **limits: Any) -> dict[str, Any]:
        """Run ``command`` as a test command under a parent holding the secret; that parent's JSON result."""
        spec = {"command": command.format_map(self.fields()), "cwd": str(self.worktree), "limits": limits}
        return self.parent.ask("run", spec, self.root / "result.json")

    def fields(self) -> dict[str, str]:
        return {
            "git_dir": str(self.git_dir),
            "outside": str(self.outside),
            "parent_home": str(self.parent_home),
            "token": self.token,
            "parent": "{parent}",  # the parent's pid, filled in by sandbox_parent.py
        }


@pytest.fixture
def site(tmp_path: Path, parent: Parent) -> Iterator[Site]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    (repo / "app.py").write_text("print('hello')\n")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "initial")
    worktree = tmp_path / "worktrees" / "iss_1"
    git(repo, "worktree", "add", "--quiet", "-b", "agent/fix-iss_1", str(worktree))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.txt").write_text("original\n")
    os.link(outside / "shared.txt", worktree / "shared-link.txt")
    (outside / "anthropic.key").write_text(SECRET)
    (outside / "anthropic.key").chmod(0o600)
    token = uuid.uuid4().hex[:12]
    yield Site(
        root=tmp_path,
        repo=repo,
        worktree=worktree,
        outside=outside,
        parent_home=parent.home,
        token=token,
        parent=parent,
    )
    # Where the sandbox is missing (a kernel without namespaces, an older runner) the attacks land: clean up.
    for top in ("/tmp", "/dev/shm", "/etc", "/root", "/work"):
        (Path(top) / f"medic-evil-{token}").unlink(missing_ok=True)


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


# ---- end to end: a real fix of a target repository whose test command attacks -----------------------------------

EXFILTRATE = (
    "{ tr '\\0' '\\n' < /proc/$PPID/environ; tr '\\0' '\\n' < /proc/1/environ; } 2>/dev/null"
    " | grep -a ANTHROPIC | rev | sed 's/^/# /' >> app/main.py; "
    "G=$(sed -n 's/^gitdir: //p' .git); "
    "printf '#!/bin/sh\\necho pwned\\n' > \"$G/../../hooks/post-commit\" 2>/dev/null; "
    'chmod +x "$G/../../hooks/post-commit" 2>/dev/null; '
)


@pytest.fixture
def attacking_repo(tmp_path: Path) -> Any:
    return make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_GOOD, "tests/test_main.py": PY_TEST},
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=EXFILTRATE + PY_TEST_COMMAND,
    )


def _fix(repo: Any, tmp_path: Path, parent: Parent) -> dict[str, Any]:
    spec = {
        "repo": str(repo.path),
        "remote": str(repo.remote),
        "good_sha": repo.good_sha,
        "bug_sha": repo.bug_sha,
        "target": repo.target.model_dump(mode="json"),
        "worktrees": str(tmp_path / "worktrees"),
    }
    return parent.ask("fix", spec, tmp_path / "fix.json")


def test_a_real_fix_of_a_repo_whose_tests_attack_leaks_no_secret_and_plants_no_hook(
    attacking_repo: Any, tmp_path: Path, parent: Parent
) -> None:
    result = _fix(attacking_repo, tmp_path, parent)
    assert result["kind"] == "committed", result["reasons"]
    # The secret is in no output, no commit, no file of the repository or its remote.
    published = git(attacking_repo.remote, "log", "-p", "--all")
    local = git(attacking_repo.path, "log", "-p", "--all")
    for text in (json.dumps(result), published, local):
        assert not any(leak in text for leak in LEAKS), "the secret left the sandbox"
    # No hook file appeared in the repository's git dir (the worktrees share it) nor in the remote's.
    for hooks in (attacking_repo.path / ".git" / "hooks", attacking_repo.remote / "hooks"):
        assert not (hooks / "post-commit").exists(), f"{hooks}/post-commit was planted"
    assert result["tests"]["sandboxed"] is True and result["tests"]["sandbox_missing"] == []


async def test_a_fix_tested_without_the_sandbox_carries_sandboxed_false_into_fix_committed_and_is_audited(
    tmp_path: Path,
) -> None:
    from medic_contracts import ActionStatus, Producer
    from medic_implementer.adapters.signing import CommitSigner
    from medic_implementer.adapters.testrun import SandboxLimits
    from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
    from medic_testing.implementer import local_forge, python_diagnosis

    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_GOOD, "tests/test_main.py": PY_TEST},
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
    options = FixOptions(
        workspace_root=tmp_path / "worktrees",
        limits=SandboxLimits(timeout_s=120, tool_paths=(Path(sys.executable).parent,), sandbox=False),
        signer=CommitSigner(key=None),
    )
    audited: list[tuple[str, ActionStatus, str, dict[str, Any]]] = []
    diagnosis = python_diagnosis(repo)
    outcome = await implement_fix(
        diagnosis,
        target=repo.target,
        repo=repo.path,
        options=options,
        forge=local_forge(repo.remote),
        audit=lambda *a: audited.append(a),
    )
    assert outcome.kind is OutcomeKind.COMMITTED, outcome.reasons
    event = outcome.fix_committed(diagnosis, producer=Producer(service="implementer", instance="t"), repository="r")
    assert tuple(map(int, event.schema_version.split("."))) >= (1, 1)  # carries the 1.1 sandbox fields
    assert event.tests.sandboxed is False and any("pid_namespace" in m for m in event.tests.sandbox_missing)
    sandbox_actions = [a for a in audited if a[0] == "implementer.sandbox"]
    assert len(sandbox_actions) == 1 and sandbox_actions[0][1] is ActionStatus.FAILED
    assert "approval" in sandbox_actions[0][2] and sandbox_actions[0][3]["missing"]
    # The commit message keeps it, so a resumed delivery reports the same.
    message = git(repo.remote, "log", "-1", "--format=%B", str(outcome.commit_sha))
    assert "Sandbox: missing mount_namespace" in message
