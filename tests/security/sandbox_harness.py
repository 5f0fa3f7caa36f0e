"""What the sandbox red team shares: the secret and its disguises, the implementer-side parent that holds it, and a
repository with a linked worktree (as the implementer makes) beside host files an attack must not reach.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medic_implementer.adapters.sandbox import sandbox_support
from medic_testing.implementer import git

PARENT = Path(__file__).with_name("sandbox_parent.py")
SECRET = "medic-sandbox-secret-" + uuid.uuid4().hex
# The output is redacted, so an attack also prints the secret reversed and copies it into the worktree.
LEAKS = (SECRET, SECRET[::-1], base64.b64encode(SECRET.encode()).decode()[:24])
#: The red team's modules are marked with this.
NEEDS_SANDBOX = pytest.mark.skipif(
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
