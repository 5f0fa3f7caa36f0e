"""LocalForge specifics: records in the bare repository, serialised merges, crash recovery, timeouts."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from medic_forge import ForgeError, ForgeLockTimeoutError, GitTimeoutError, LocalForge
from medic_forge.git import Git, check_branch_name, redact


async def _two_fixes(forge: LocalForge, repo: Any) -> tuple[int, int]:
    repo.commit("agent/fix-1", {"one.py": "ONE = 1\n"}, "fix one", base="staging")
    await forge.push_branch(clone=repo.clone, branch="agent/fix-1")
    repo.commit("agent/fix-2", {"two.py": "TWO = 2\n"}, "fix two", base="staging")
    await forge.push_branch(clone=repo.clone, branch="agent/fix-2")
    one = await forge.open_pull_request(head="agent/fix-1", base="staging", title="one", body="b")
    two = await forge.open_pull_request(head="agent/fix-2", base="staging", title="two", body="b")
    return one.number, two.number


async def test_pull_requests_are_records_in_the_bare_repository(repo: Any, tmp_path: Path, run_git: Any) -> None:
    forge = LocalForge(repo.remote, tmp_path / "work")
    first, second = await _two_fixes(forge, repo)

    data = json.loads((repo.remote / "medic-forge" / "pulls.json").read_text(encoding="utf-8"))
    assert [p["number"] for p in data["pulls"]] == [first, second] == [1, 2]
    assert run_git("--git-dir", str(repo.remote), "rev-parse", "refs/medic/pr/1/head") == repo.remote_head("agent/fix-1")
    # another forge (another process, another work dir) sees the same pull requests
    other = LocalForge(repo.remote, tmp_path / "elsewhere")
    found = await other.find_pull_request(head="agent/fix-2", base="staging")
    assert found is not None and found.number == 2 and found.title == "two"


async def test_two_merges_at_once_serialise_and_both_land(repo: Any, tmp_path: Path) -> None:
    forge_a = LocalForge(repo.remote, tmp_path / "work-a")
    forge_b = LocalForge(repo.remote, tmp_path / "work-b")
    first, second = await _two_fixes(forge_a, repo)

    merges = await asyncio.gather(
        forge_a.merge_pull_request(number=first, message="merge one"),
        forge_b.merge_pull_request(number=second, message="merge two"),
    )

    staging = repo.remote_head("staging")
    assert staging in merges
    # the later merge was made on top of the earlier one: both fixes are on staging
    assert repo.show("staging", "one.py") == "ONE = 1" and repo.show("staging", "two.py") == "TWO = 2"
    later, earlier = (merges[0], merges[1]) if staging == merges[0] else (merges[1], merges[0])
    assert repo.parents(later)[0] == earlier
    states = {p.number: p.state for p in await forge_a.list_pull_requests(state="all")}
    assert states == {first: "merged", second: "merged"}


HOLD_LOCK = textwrap.dedent(
    """\
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


async def test_another_process_holding_the_lock_makes_merges_wait_then_time_out(repo: Any, tmp_path: Path) -> None:
    forge = LocalForge(repo.remote, tmp_path / "work", lock_timeout_s=0.5)
    first, _ = await _two_fixes(forge, repo)
    lock = repo.remote / "medic-forge" / "lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ForgeLockTimeoutError):
            await forge.merge_pull_request(number=first, message="m")
    finally:
        holder.kill()
        holder.wait()
    # once the other process is gone the merge goes through
    assert await forge.merge_pull_request(number=first, message="m") == repo.remote_head("staging")


async def test_a_merge_pushed_before_a_crash_is_adopted_not_repeated(repo: Any, tmp_path: Path, run_git: Any) -> None:
    forge = LocalForge(repo.remote, tmp_path / "work")
    first, _ = await _two_fixes(forge, repo)
    # simulate a caller that pushed the merge and died before recording it
    scratch = tmp_path / "scratch"
    run_git("clone", "-q", str(repo.remote), str(scratch))
    run_git("checkout", "-q", "staging", cwd=scratch)
    run_git("merge", "-q", "--no-ff", "-m", "merge one", "origin/agent/fix-1", cwd=scratch)
    run_git("push", "-q", "origin", "staging", cwd=scratch)
    pushed = repo.remote_head("staging")

    assert await forge.merge_pull_request(number=first, message="merge one") == pushed
    assert repo.remote_head("staging") == pushed


async def test_a_crashed_merge_left_in_the_private_clone_is_cleaned_up(repo: Any, tmp_path: Path) -> None:
    forge = LocalForge(repo.remote, tmp_path / "work")
    first, second = await _two_fixes(forge, repo)
    await forge.merge_pull_request(number=first, message="m1")
    clone = next((tmp_path / "work" / "clones").iterdir())
    (clone / "one.py").write_text("garbage from a crash\n", encoding="utf-8")
    (clone / "untracked.tmp").write_text("x", encoding="utf-8")
    merged = await forge.merge_pull_request(number=second, message="m2")
    assert repo.remote_head("staging") == merged
    assert repo.show("staging", "one.py") == "ONE = 1"


async def test_not_a_bare_repository_is_a_clear_error(tmp_path: Path) -> None:
    forge = LocalForge(tmp_path / "missing.git", tmp_path / "work")
    with pytest.raises(ForgeError, match="not a bare git repository"):
        await forge.find_pull_request(head="a", base="b")


async def test_metadata_file_is_replaced_atomically(repo: Any, tmp_path: Path) -> None:
    forge = LocalForge(repo.remote, tmp_path / "work")
    await _two_fixes(forge, repo)
    leftovers = [p.name for p in (repo.remote / "medic-forge").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


async def test_git_commands_that_hang_are_killed_at_the_timeout(tmp_path: Path) -> None:
    fake_git = tmp_path / "slow-git"
    fake_git.write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    fake_git.chmod(0o755)
    git = Git(timeout_s=0.3, executable=str(fake_git))
    with pytest.raises(GitTimeoutError, match="timed out"):
        await git.run("status")


def test_redact_removes_credentials_from_messages() -> None:
    text = "fatal: unable to access 'https://x-access-token:ghp_abc@github.com/a/b.git/': Authorization: Basic eHl6"
    cleaned = redact(text, ("ghp_abc",))
    assert "ghp_abc" not in cleaned and "eHl6" not in cleaned


@pytest.mark.parametrize("name", ["agent/fix-42", "staging", "main", "release/2024.05", "feature/a+b", "fix_1"])
def test_ordinary_branch_names_are_accepted(name: str) -> None:
    assert check_branch_name(name) == name
