"""Real git repositories for forge tests: a bare remote with main and staging, and a working clone."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from medic_forge import Forge, GitHubForge, LocalForge
from medic_testing.forge import FakeGitHub

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "LC_ALL": "C",
}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git for test setup; fail the test with git's message when it fails."""
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


@dataclass
class Repo:
    """A bare remote and a developer's clone of it (``origin`` = the remote)."""

    remote: Path
    clone: Path

    def commit(self, branch: str, files: dict[str, str], message: str, *, base: str | None = None) -> str:
        """Commit ``files`` on ``branch`` in the clone (created from ``base`` when given); return the sha."""
        if base is not None:
            git("checkout", "-q", "-B", branch, f"origin/{base}", cwd=self.clone)
        else:
            git("checkout", "-q", branch, cwd=self.clone)
        for name, text in files.items():
            path = self.clone / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        git("add", "-A", cwd=self.clone)
        git("commit", "-q", "-m", message, cwd=self.clone)
        return git("rev-parse", "HEAD", cwd=self.clone)

    def remote_head(self, branch: str) -> str:
        """The remote's sha of ``branch``."""
        return git("--git-dir", str(self.remote), "rev-parse", f"refs/heads/{branch}")

    def show(self, branch: str, path: str) -> str:
        """A file's content on the remote's ``branch``."""
        return git("--git-dir", str(self.remote), "show", f"refs/heads/{branch}:{path}")

    def parents(self, sha: str) -> list[str]:
        """The parent shas of a remote commit."""
        return git("--git-dir", str(self.remote), "rev-list", "--parents", "-n", "1", sha).split()[1:]


APP = "def price(total, items):\n    return total / items\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A remote with ``main`` and ``staging`` at the same commit, and a clone."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(remote))
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    git("checkout", "-q", "-b", "main", cwd=clone)
    (clone / "app.py").write_text(APP, encoding="utf-8")
    (clone / "README.md").write_text("shop\n", encoding="utf-8")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "initial", cwd=clone)
    git("push", "-q", "origin", "main", "main:staging", cwd=clone)
    git("fetch", "-q", "origin", cwd=clone)
    return Repo(remote=remote, clone=clone)


@pytest.fixture
def fake_github(repo: Repo) -> Iterator[FakeGitHub]:
    """FakeGitHub serving ``repo.remote`` as acme/shop."""
    with FakeGitHub(repo.remote, repo="acme/shop", token="s3cr3t-token") as fake:
        yield fake


def github_forge(fake: FakeGitHub, remote: Path, work_dir: Path, **options: Any) -> GitHubForge:
    """A GitHubForge pointed at the fake (PyGithub throttling off)."""
    settings: dict[str, Any] = {**fake.fast_client_options, **options}
    return GitHubForge("acme/shop", fake.token, api_url=fake.api_url, git_remote_url=str(remote), work_dir=work_dir, **settings)


@pytest.fixture
def make_github_forge() -> Callable[..., GitHubForge]:
    """Build a GitHubForge against a FakeGitHub: ``make_github_forge(fake, remote, work_dir, **options)``."""
    return github_forge


@pytest.fixture
def run_git() -> Callable[..., str]:
    """``run_git(*args, cwd=...)``: git for test setup, failing the test when git fails."""
    return git


@pytest.fixture(params=["local", "github"])
def forge(request: pytest.FixtureRequest, repo: Repo, tmp_path: Path) -> Iterator[Forge]:
    """Each forge implementation in turn, on the same kind of repository."""
    if request.param == "local":
        yield LocalForge(repo.remote, tmp_path / "work")
        return
    with FakeGitHub(repo.remote, repo="acme/shop", token="s3cr3t-token") as fake:
        yield github_forge(fake, repo.remote, tmp_path / "work")
