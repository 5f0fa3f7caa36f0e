"""Every Forge method on both implementations (LocalForge, GitHubForge through PyGithub against FakeGitHub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medic_forge import (
    Forge,
    ForgeError,
    MergeConflictError,
    PullRequestClosedError,
    PullRequestNotFoundError,
    PushRejectedError,
    RefNotFoundError,
    UnsafeRefError,
)

FIX = "def price(total, items):\n    if not items:\n        return 0\n    return total / items\n"


async def _fix_branch(forge: Forge, repo: Any, branch: str = "agent/fix-1", files: dict[str, str] | None = None) -> str:
    sha: str = repo.commit(branch, files or {"app.py": FIX}, "Guard zero items", base="staging")
    assert await forge.push_branch(clone=repo.clone, branch=branch) == sha
    return sha


async def test_forge_satisfies_the_protocol(forge: Forge) -> None:
    assert isinstance(forge, Forge)
    assert forge.name in ("local", "github")


async def test_push_branch_returns_the_sha_and_a_second_push_is_a_no_op(forge: Forge, repo: Any) -> None:
    sha = await _fix_branch(forge, repo)
    assert repo.remote_head("agent/fix-1") == sha
    assert await forge.push_branch(clone=repo.clone, branch="agent/fix-1") == sha
    assert await forge.branch_head(branch="agent/fix-1") == sha


async def test_push_that_is_not_a_fast_forward_is_rejected(forge: Forge, repo: Any, tmp_path: Path, run_git: Any) -> None:
    await _fix_branch(forge, repo)
    other = tmp_path / "other"
    run_git("clone", "-q", str(repo.remote), str(other))
    run_git("checkout", "-q", "agent/fix-1", cwd=other)
    (other / "NOTES.md").write_text("someone else\n", encoding="utf-8")
    run_git("add", "-A", cwd=other)
    run_git("commit", "-q", "-m", "concurrent change", cwd=other)
    run_git("push", "-q", "origin", "agent/fix-1", cwd=other)
    moved = repo.remote_head("agent/fix-1")

    repo.commit("agent/fix-1", {"app.py": FIX + "# again\n"}, "local amend")
    with pytest.raises(PushRejectedError):
        await forge.push_branch(clone=repo.clone, branch="agent/fix-1")
    assert repo.remote_head("agent/fix-1") == moved


async def test_pushing_a_missing_branch_is_a_clear_error(forge: Forge, repo: Any) -> None:
    with pytest.raises(RefNotFoundError, match="agent/none"):
        await forge.push_branch(clone=repo.clone, branch="agent/none")


async def test_open_pull_request_twice_returns_the_same_pull_request_with_labels_merged(forge: Forge, repo: Any) -> None:
    sha = await _fix_branch(forge, repo)
    assert await forge.find_pull_request(head="agent/fix-1", base="staging") is None

    first = await forge.open_pull_request(
        head="agent/fix-1", base="staging", title="Fix price", body="root cause", labels=["medic"]
    )
    second = await forge.open_pull_request(
        head="agent/fix-1", base="staging", title="Fix price", body="root cause", labels=["medic", "P2"]
    )

    assert first.number == second.number
    assert (second.head, second.base, second.head_sha, second.state, second.merge_sha) == (
        "agent/fix-1",
        "staging",
        sha,
        "open",
        None,
    )
    assert second.title == "Fix price" and set(second.labels) == {"medic", "P2"}
    found = await forge.find_pull_request(head="agent/fix-1", base="staging")
    assert found is not None and found.number == first.number and found.url == first.url


async def test_open_pull_request_follows_the_branch_when_it_moves(forge: Forge, repo: Any) -> None:
    await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    newer = repo.commit("agent/fix-1", {"tests/test_app.py": "def test_zero(): pass\n"}, "add test")
    await forge.push_branch(clone=repo.clone, branch="agent/fix-1")
    again = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    assert again.number == pr.number and again.head_sha == newer


async def test_pull_request_needs_existing_branches_and_new_commits(forge: Forge, repo: Any) -> None:
    with pytest.raises(RefNotFoundError):
        await forge.open_pull_request(head="agent/missing", base="staging", title="t", body="b")
    with pytest.raises(ForgeError):
        await forge.open_pull_request(head="main", base="staging", title="t", body="b")  # no commits between


async def test_merge_pull_request_makes_a_real_merge_commit_and_is_idempotent(forge: Forge, repo: Any) -> None:
    head_sha = await _fix_branch(forge, repo)
    base_before = repo.remote_head("staging")
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="Fix price", body="b")

    merge_sha = await forge.merge_pull_request(number=pr.number, message="Merge fix for issue 1")

    assert repo.remote_head("staging") == merge_sha
    assert repo.parents(merge_sha) == [base_before, head_sha]
    assert repo.show("staging", "app.py") == FIX.rstrip("\n")
    assert await forge.merge_pull_request(number=pr.number, message="again") == merge_sha
    merged = await forge.find_pull_request(head="agent/fix-1", base="staging")
    assert merged is not None and merged.state == "merged" and merged.merge_sha == merge_sha
    # opening it again after the merge finds the merged pull request instead of proposing nothing
    reopened = await forge.open_pull_request(head="agent/fix-1", base="staging", title="Fix price", body="b")
    assert reopened.number == pr.number and reopened.state == "merged"


async def test_merge_conflict_is_reported_and_nothing_is_pushed(forge: Forge, repo: Any) -> None:
    await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    repo.commit("hotfix", {"app.py": "def price(total, items):\n    return round(total / items, 2)\n"}, "hotfix", base="staging")
    await forge.push_branch(clone=repo.clone, branch="hotfix")
    hotfix = await forge.open_pull_request(head="hotfix", base="staging", title="hotfix", body="b")
    await forge.merge_pull_request(number=hotfix.number, message="hotfix")
    staging = repo.remote_head("staging")

    with pytest.raises(MergeConflictError) as raised:
        await forge.merge_pull_request(number=pr.number, message="conflicting")

    assert repo.remote_head("staging") == staging
    still = await forge.find_pull_request(head="agent/fix-1", base="staging")
    assert still is not None and still.state == "open"
    if forge.name == "local":
        assert raised.value.files == ("app.py",)


async def test_closed_and_unknown_pull_requests_cannot_be_merged(forge: Forge, repo: Any) -> None:
    await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    closed = await forge.close_pull_request(number=pr.number)  # type: ignore[attr-defined]
    assert closed.state == "closed"
    with pytest.raises(PullRequestClosedError):
        await forge.merge_pull_request(number=pr.number, message="m")
    with pytest.raises(PullRequestNotFoundError):
        await forge.merge_pull_request(number=999, message="m")
    # a closed pull request does not block proposing the branch again
    fresh = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    assert fresh.number != pr.number and fresh.state == "open"


async def test_merge_branch_promotes_staging_to_main_once(forge: Forge, repo: Any) -> None:
    await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    await forge.merge_pull_request(number=pr.number, message="merge fix")
    main_before = repo.remote_head("main")

    promoted = await forge.merge_branch(source="staging", target="main", message="Promote staging")

    assert repo.remote_head("main") == promoted
    assert main_before in repo.parents(promoted)
    assert repo.show("main", "app.py") == FIX.rstrip("\n")
    # nothing new on staging: the same head comes back and no commit is made
    assert await forge.merge_branch(source="staging", target="main", message="again") == promoted
    with pytest.raises(RefNotFoundError):
        await forge.merge_branch(source="nope", target="main", message="m")


async def test_merge_branch_conflict_is_reported(forge: Forge, repo: Any) -> None:
    repo.commit("main", {"app.py": "def price(total, items):\n    return 0\n"}, "main diverges", base="main")
    repo.commit("staging", {"app.py": "def price(total, items):\n    return 1\n"}, "staging diverges", base="staging")
    await forge.push_branch(clone=repo.clone, branch="main")
    await forge.push_branch(clone=repo.clone, branch="staging")
    main = repo.remote_head("main")
    with pytest.raises(MergeConflictError):
        await forge.merge_branch(source="staging", target="main", message="m")
    assert repo.remote_head("main") == main


async def test_revert_of_a_merge_commit_restores_the_branch_and_is_idempotent(forge: Forge, repo: Any) -> None:
    await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    merge_sha = await forge.merge_pull_request(number=pr.number, message="merge fix")

    revert_sha = await forge.revert_commit(branch="staging", sha=merge_sha, message="Revert fix for issue 1")

    assert repo.remote_head("staging") == revert_sha
    assert repo.parents(revert_sha) == [merge_sha]
    assert repo.show("staging", "app.py") + "\n" == "def price(total, items):\n    return total / items\n"
    assert await forge.revert_commit(branch="staging", sha=merge_sha, message="again") == revert_sha
    assert repo.remote_head("staging") == revert_sha


async def test_revert_of_a_plain_commit_and_of_a_commit_off_the_branch(forge: Forge, repo: Any) -> None:
    sha = repo.commit("main", {"README.md": "shop v2\n"}, "docs", base="main")
    await forge.push_branch(clone=repo.clone, branch="main")
    reverted = await forge.revert_commit(branch="main", sha=sha, message="Revert docs")
    assert repo.show("main", "README.md") == "shop"
    assert repo.parents(reverted) == [sha]
    with pytest.raises(ForgeError, match="not on branch"):
        await forge.revert_commit(branch="staging", sha=sha, message="m")
    with pytest.raises(RefNotFoundError):
        await forge.revert_commit(branch="main", sha="0" * 40, message="m")


async def test_revert_conflict_is_reported_and_nothing_is_pushed(forge: Forge, repo: Any) -> None:
    first = repo.commit("main", {"app.py": "def price(total, items):\n    return 1\n"}, "one", base="main")
    repo.commit("main", {"app.py": "def price(total, items):\n    return 2\n"}, "two")
    await forge.push_branch(clone=repo.clone, branch="main")
    head = repo.remote_head("main")
    with pytest.raises(MergeConflictError):
        await forge.revert_commit(branch="main", sha=first, message="revert one")
    assert repo.remote_head("main") == head


async def test_branch_head_of_a_missing_branch_is_none(forge: Forge, repo: Any) -> None:
    assert await forge.branch_head(branch="main") == repo.remote_head("main")
    assert await forge.branch_head(branch="agent/fix-404") is None


async def test_fetch_ref_checks_out_branches_and_shas_and_updates_in_place(
    forge: Forge, repo: Any, tmp_path: Path, run_git: Any
) -> None:
    # staging as the remote's HEAD: a fresh clone then has a local "staging" that must not be used later
    run_git("--git-dir", str(repo.remote), "symbolic-ref", "HEAD", "refs/heads/staging")
    first = repo.remote_head("staging")
    into = await forge.fetch_ref(ref="staging", into=tmp_path / "deploy")
    assert (into / "app.py").read_text(encoding="utf-8") == "def price(total, items):\n    return total / items\n"

    await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    await forge.merge_pull_request(number=pr.number, message="m")
    (into / "stray.txt").write_text("left by a build", encoding="utf-8")
    again = await forge.fetch_ref(ref="staging", into=tmp_path / "deploy")
    assert (again / "app.py").read_text(encoding="utf-8") == FIX
    assert not (again / "stray.txt").exists()

    old = await forge.fetch_ref(ref=first[:12], into=tmp_path / "old")
    assert (old / "app.py").read_text(encoding="utf-8") == "def price(total, items):\n    return total / items\n"
    with pytest.raises(RefNotFoundError):
        await forge.fetch_ref(ref="no-such-branch", into=tmp_path / "none")


UNSAFE = [
    "",
    "-rf",
    "--upload-pack=evil",
    "a..b",
    "refs/heads/main",
    "a b",
    "x;rm -rf /",
    "a/.hidden",
    "x.lock",
    "a//b",
    "@{1}",
    "HEAD",
    "ä",
]


async def test_unsafe_branch_names_are_refused_before_git_runs(forge: Forge, repo: Any, tmp_path: Path) -> None:
    for branch in UNSAFE:
        with pytest.raises(UnsafeRefError):
            await forge.branch_head(branch=branch)
        with pytest.raises(UnsafeRefError):
            await forge.push_branch(clone=repo.clone, branch=branch)
        with pytest.raises(UnsafeRefError):
            await forge.merge_branch(source=branch, target="main", message="m")
        with pytest.raises(UnsafeRefError):
            await forge.open_pull_request(head=branch, base="staging", title="t", body="b")
        with pytest.raises(UnsafeRefError):
            await forge.fetch_ref(ref=branch, into=tmp_path / "x")
        with pytest.raises(UnsafeRefError):
            await forge.revert_commit(branch="main", sha=branch or "zz", message="m")
    assert not (tmp_path / "x").exists()


async def test_comments_and_commit_statuses(forge: Forge, repo: Any) -> None:
    sha = await _fix_branch(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-1", base="staging", title="t", body="b")
    extra: Any = forge  # optional methods beyond the Forge protocol
    await extra.add_comment(number=pr.number, body="Tests passed: 12")
    await extra.set_commit_status(sha=sha, state="pending", context="medic/tests", description="running")
    status = await extra.set_commit_status(sha=sha[:10], state="success", context="medic/tests", description="12 passed")
    assert status.sha == sha
    statuses = await extra.commit_statuses(sha=sha)
    assert [(s.context, s.state, s.description) for s in statuses] == [("medic/tests", "success", "12 passed")]
    listed = await extra.list_pull_requests(state="open")
    assert [p.number for p in listed] == [pr.number]
    assert (await extra.get_pull_request(number=pr.number)).title == "t"


async def test_fetch_ref_remakes_a_checkout_a_crash_left_half_made_and_still_refuses_another_remotes(
    forge: Forge, repo: Any, tmp_path: Path, run_git: Any
) -> None:
    head = repo.remote_head("main")
    # kill -9 during a checkout: git's index.lock stays behind and every later checkout fails on it
    locked = await forge.fetch_ref(ref="main", into=tmp_path / "locked")
    (locked / ".git" / "index.lock").write_text("", encoding="utf-8")
    again = await forge.fetch_ref(ref="main", into=tmp_path / "locked")
    assert run_git("-C", str(again), "rev-parse", "HEAD").strip() == head
    # kill -9 during the clone: a .git without an origin or a single ref
    half = tmp_path / "half"
    run_git("init", "-q", str(half))
    made = await forge.fetch_ref(ref="main", into=half)
    assert run_git("-C", str(made), "rev-parse", "HEAD").strip() == head
    # a checkout of something else is never removed
    other = tmp_path / "other"
    run_git("init", "-q", str(other))
    run_git("-C", str(other), "remote", "add", "origin", str(tmp_path / "elsewhere.git"))
    with pytest.raises(ForgeError, match="another remote"):
        await forge.fetch_ref(ref="main", into=other)
    assert (other / ".git").is_dir()
