"""Issue 12, finding 1 and the git half of 2: no git call Medic makes runs code planted in a repository's ``.git``.

Every runner (the implementer's, the forge's, the investigator's) is driven through the operations
Medic really performs (worktree add, add, commit, push, diff, status, blame, grep) on a real
repository whose ``.git`` holds hooks, an fsmonitor command, an external diff and a textconv driver
that would each leave a marker file and print a secret. None may run.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from medic_forge.git import Git as ForgeGit
from medic_implementer.adapters.git import Git as ImplementerGit
from medic_investigator.adapters.repo import run_git

SECRET = "sk-ant-test-secret-0123456789"

HOOKS = (
    "post-checkout",
    "post-commit",
    "pre-commit",
    "commit-msg",
    "prepare-commit-msg",
    "reference-transaction",
    "pre-push",
    "post-index-change",
    "post-rewrite",
    "post-merge",
    "pre-merge-commit",
)


def _plain_git(repo: Path, *args: str) -> str:
    """Set-up git (not Medic's): the attacker's own tool, with hooks disabled so planting does not fire them."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    done = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _script(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "$ANTHROPIC_API_KEY" >> "{marker}"\necho ran >> "{marker}"\necho "{SECRET}"\nexit 0\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """(repo, bare remote, marker dir): a repository whose .git runs a marker script from every hook and driver."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    repo, remote, markers = tmp_path / "repo", tmp_path / "remote.git", tmp_path / "markers"
    markers.mkdir()
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    _plain_git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("x = 1\n")
    (repo / "notes.txt").write_text("hello\n")
    _plain_git(repo, "add", "-A")
    _plain_git(repo, "commit", "-qm", "initial")
    _plain_git(repo, "remote", "add", "origin", str(remote))
    for hook in HOOKS:
        _script(repo / ".git" / "hooks" / hook, markers / f"hook-{hook}")
    for name in ("fsmonitor", "extdiff", "textconv"):
        _script(markers / f"{name}.sh", markers / f"driver-{name}")
    _plain_git(repo, "config", "core.fsmonitor", str(markers / "fsmonitor.sh"))
    _plain_git(repo, "config", "diff.external", str(markers / "extdiff.sh"))
    _plain_git(repo, "config", "diff.evil.textconv", str(markers / "textconv.sh"))
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    return repo, remote, markers


def _fired(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir() if not p.name.endswith(".sh"))


async def test_planted_hooks_fire_for_plain_git_so_the_fixture_is_a_real_attack(planted: tuple[Path, Path, Path]) -> None:
    repo, _, markers = planted
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b"}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}
    (repo / "app.py").write_text("x = 2\n")
    subprocess.run(["git", "commit", "-qam", "plain"], cwd=repo, env=env, check=True, capture_output=True)
    subprocess.run(["git", "diff", "HEAD~1"], cwd=repo, env=env, check=True, capture_output=True)
    fired = _fired(markers)
    assert "hook-post-commit" in fired and "hook-pre-commit" in fired
    assert "driver-extdiff" in fired


@pytest.mark.parametrize("hook", HOOKS)
async def test_no_planted_hook_runs_through_the_implementers_worktree_add_commit_and_push(
    planted: tuple[Path, Path, Path], tmp_path: Path, hook: str
) -> None:
    repo, _, markers = planted
    git = ImplementerGit(repo)
    await git.run("worktree", "add", "--detach", str(tmp_path / "wt"), "HEAD")
    wt = git.at(tmp_path / "wt")
    (tmp_path / "wt" / "app.py").write_text("x = 3\n")
    await wt.run("add", "-A", "--", "app.py")
    await wt.run("diff", "--cached", "HEAD")
    await wt.run("status", "--porcelain")
    await wt.run("commit", "-q", "-m", "fix", input_text=None)
    await wt.run("commit", "-q", "--amend", "-m", "fix (amended)")
    fixed = await wt.out("rev-parse", "HEAD")
    await wt.run("switch", "-q", "-c", "side", "HEAD~1")
    (tmp_path / "wt" / "notes.txt").write_text("side\n")
    await wt.run("commit", "-q", "-am", "side")
    await wt.run("merge", "-q", "--no-ff", "-m", "merge", fixed)
    await wt.run("branch", "-f", "agent/fix-x", "HEAD")
    await wt.run("push", "-q", "origin", "agent/fix-x")
    await git.run("worktree", "remove", "--force", str(tmp_path / "wt"))
    assert f"hook-{hook}" not in _fired(markers)


@pytest.mark.parametrize("driver", ["fsmonitor", "extdiff", "textconv"])
async def test_no_fsmonitor_external_diff_or_textconv_runs_through_any_runner(
    planted: tuple[Path, Path, Path], driver: str
) -> None:
    repo, _, markers = planted
    (repo / "app.py").write_text("x = 4\n")
    implementer = ImplementerGit(repo)
    for args in (("status", "--porcelain"), ("diff",), ("diff", "HEAD"), ("log", "-p", "-1"), ("show", "HEAD")):
        await implementer.run(*args)
        await ForgeGit().run(*args, cwd=repo)
        await run_git(repo, *args)
    await run_git(repo, "blame", "--porcelain", "HEAD", "--", "app.py")
    await run_git(repo, "grep", "-n", "-e", "x", "--", "app.py", check=False)
    assert f"driver-{driver}" not in _fired(markers)


async def test_no_hook_runs_through_the_forge_runners_commit_and_push(planted: tuple[Path, Path, Path]) -> None:
    repo, _, markers = planted
    git = ForgeGit()
    (repo / "app.py").write_text("x = 5\n")
    await git.run("add", "-A", cwd=repo)
    result = await git.run("commit", "-q", "-m", "merge", cwd=repo)
    await git.run("push", "-q", "origin", "HEAD:refs/heads/staging", cwd=repo)
    assert _fired(markers) == []
    assert SECRET not in result.stdout + result.stderr


async def test_no_hook_runs_through_the_investigators_worktree_add(planted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    repo, _, markers = planted
    await run_git(repo, "worktree", "add", "--force", "--detach", str(tmp_path / "inv"), "HEAD")
    assert "hook-post-checkout" not in _fired(markers)
    assert (tmp_path / "inv" / "app.py").is_file()


MAGIC = [
    "src/app/api/[b]illing/charge.py",
    "src/app/api/b?lling/charge.py",
    "src/app/api/*/charge.py",
    ":(glob)src/app/api/**/charge.py",
    ":!notes.txt",
    ":(exclude)notes.txt",
    ":(icase)SRC/APP/API/BILLING/CHARGE.PY",
]


@pytest.mark.parametrize("pathspec", MAGIC)
async def test_a_magic_path_stages_only_the_file_of_that_exact_name(tmp_path: Path, pathspec: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _plain_git(repo, "init", "-q", "-b", "main")
    billing = repo / "src/app/api/billing/charge.py"
    billing.parent.mkdir(parents=True)
    billing.write_text("AMOUNT = 100\n")
    (repo / "notes.txt").write_text("n\n")
    _plain_git(repo, "add", "-A")
    _plain_git(repo, "commit", "-qm", "initial")
    billing.write_text("AMOUNT = 0  # rewritten by a test\n")
    git = ImplementerGit(repo)
    await git.run("add", "-A", "--", pathspec, check=False)
    staged = (await git.run("diff", "--cached", "--name-only", "-z")).stdout.split("\0")
    assert "src/app/api/billing/charge.py" not in staged


def test_hardened_argv_disables_hooks_fsmonitor_and_pathspec_magic_and_limits_transports() -> None:
    from medic_forge.git import hardened_args, hardened_argv, hardened_env  # here: the rest of the file runs on any version

    argv = hardened_argv()
    assert argv[0] == "git" and "--literal-pathspecs" in argv
    pairs = {argv[i + 1] for i, a in enumerate(argv) if a == "-c"}
    assert f"core.hooksPath={os.devnull}" in pairs and "core.fsmonitor=false" in pairs
    assert "protocol.allow=never" in pairs and "protocol.ext.allow=always" not in pairs
    assert hardened_env({"GIT_EXTERNAL_DIFF": "evil", "PATH": "/bin"})["GIT_LITERAL_PATHSPECS"] == "1"
    assert "GIT_EXTERNAL_DIFF" not in hardened_env({"GIT_EXTERNAL_DIFF": "evil"})
    safe = ["--git-dir", "x", "diff", "--no-ext-diff", "--no-textconv", "HEAD"]
    assert hardened_args(["--git-dir", "x", "diff", "HEAD"]) == safe


@pytest.mark.parametrize("url", ["ext::sh -c touch% {marker}", "fd::3"])
async def test_a_remote_with_a_command_transport_is_refused(tmp_path: Path, url: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _plain_git(repo, "init", "-q", "-b", "main")
    (repo / "a").write_text("a\n")
    _plain_git(repo, "add", "-A")
    _plain_git(repo, "commit", "-qm", "a")
    marker = tmp_path / "ext-ran"
    result = await ForgeGit().run("push", url.format(marker=marker), "main", cwd=repo, check=False)
    assert result.returncode != 0
    assert not marker.exists()
