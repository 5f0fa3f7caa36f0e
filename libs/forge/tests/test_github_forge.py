"""GitHubForge specifics: PyGithub against FakeGitHub (errors, races, retries, merge methods, tokens)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from medic_forge import ForgeError, GitHubForge, PushRejectedError, default_git_remote_url
from medic_testing.forge import FakeGitHub


async def _pushed_fix(forge: GitHubForge, repo: Any, branch: str = "agent/fix-7") -> str:
    sha: str = repo.commit(branch, {"app.py": "def price(t, i):\n    return t / i if i else 0\n"}, "fix", base="staging")
    await forge.push_branch(clone=repo.clone, branch=branch)
    return sha


async def test_pull_request_calls_go_through_the_documented_endpoints(
    fake_github: FakeGitHub, repo: Any, tmp_path: Path, make_github_forge: Any
) -> None:
    forge = make_github_forge(fake_github, repo.remote, tmp_path / "work")
    await _pushed_fix(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-7", base="staging", title="Fix", body="why", labels=["medic", "P2"])
    sha = await forge.merge_pull_request(number=pr.number, message="Fix price\n\nRoot cause: zero items")

    assert ("POST", "/repos/acme/shop/pulls") in fake_github.calls
    assert ("POST", f"/repos/acme/shop/issues/{pr.number}/labels") in fake_github.calls
    assert ("PUT", f"/repos/acme/shop/pulls/{pr.number}/merge") in fake_github.calls
    merge_body = next(b for b in fake_github.bodies if isinstance(b, dict) and "merge_method" in b)
    assert merge_body["merge_method"] == "merge" and merge_body["sha"] == pr.head_sha
    assert merge_body["commit_title"] == "Fix price" and merge_body["commit_message"] == "Root cause: zero items"
    assert fake_github.pulls[pr.number].merge_commit_sha == sha
    assert pr.url == f"{fake_github.api_url}/acme/shop/pull/{pr.number}"


async def test_a_pull_request_created_by_a_racing_caller_is_found_not_duplicated(
    fake_github: FakeGitHub, repo: Any, tmp_path: Path, make_github_forge: Any
) -> None:
    forge = make_github_forge(fake_github, repo.remote, tmp_path / "work")
    await _pushed_fix(forge, repo)
    existing = await forge.open_pull_request(head="agent/fix-7", base="staging", title="Fix", body="b")
    # the next lookup misses it (as if it was created a moment later): creation then answers 422
    fake_github.fail_next("GET", r"/pulls$", 200, [])
    again = await forge.open_pull_request(head="agent/fix-7", base="staging", title="Fix", body="b")
    assert again.number == existing.number
    assert len(fake_github.pulls) == 1


async def test_server_errors_are_retried(fake_github: FakeGitHub, repo: Any, tmp_path: Path, make_github_forge: Any) -> None:
    forge = make_github_forge(fake_github, repo.remote, tmp_path / "work", retries=2)
    fake_github.fail_next("GET", r"/git/ref/heads/main$", 502, {"message": "Bad gateway"})
    assert await forge.branch_head(branch="main") == repo.remote_head("main")
    assert fake_github.calls.count(("GET", "/repos/acme/shop/git/ref/heads/main")) == 2


async def test_errors_name_the_operation_and_never_the_token(
    fake_github: FakeGitHub, repo: Any, tmp_path: Path, make_github_forge: Any
) -> None:
    forge = make_github_forge(fake_github, repo.remote, tmp_path / "work")
    fake_github.fail_next("GET", r"/pulls$", 500, {"message": f"internal error for token {fake_github.token}"})
    with pytest.raises(ForgeError) as raised:
        await forge.find_pull_request(head="agent/fix-7", base="staging")
    assert "find pull request" in str(raised.value) and fake_github.token not in str(raised.value)

    wrong = GitHubForge(
        "acme/shop",
        "wrong-token",
        api_url=fake_github.api_url,
        git_remote_url=str(repo.remote),
        work_dir=tmp_path / "w2",
        **fake_github.fast_client_options,
    )
    with pytest.raises(ForgeError, match="rejected the token"):
        await wrong.find_pull_request(head="agent/fix-7", base="staging")


async def test_stale_head_during_merge_is_a_push_rejection(
    fake_github: FakeGitHub, repo: Any, tmp_path: Path, make_github_forge: Any
) -> None:
    forge = make_github_forge(fake_github, repo.remote, tmp_path / "work")
    await _pushed_fix(forge, repo)
    pr = await forge.open_pull_request(head="agent/fix-7", base="staging", title="Fix", body="b")
    fake_github.fail_next("PUT", r"/merge$", 409, {"message": "Head branch was modified. Review and try the merge again."})
    with pytest.raises(PushRejectedError):
        await forge.merge_pull_request(number=pr.number, message="m")
    assert fake_github.pulls[pr.number].state == "open"


async def test_squash_merge_method_makes_a_single_parent_commit(
    fake_github: FakeGitHub, repo: Any, tmp_path: Path, make_github_forge: Any
) -> None:
    forge = make_github_forge(fake_github, repo.remote, tmp_path / "work", merge_method="squash")
    await _pushed_fix(forge, repo)
    base = repo.remote_head("staging")
    pr = await forge.open_pull_request(head="agent/fix-7", base="staging", title="Fix", body="b")
    sha = await forge.merge_pull_request(number=pr.number, message="Squashed fix")
    assert repo.parents(sha) == [base]


def test_git_remote_url_defaults_follow_the_api_host() -> None:
    assert default_git_remote_url("acme/shop", "https://api.github.com") == "https://github.com/acme/shop.git"
    assert default_git_remote_url("acme/shop", "https://ghe.example.com/api/v3") == "https://ghe.example.com/acme/shop.git"


def test_https_pushes_carry_the_token_in_the_environment_not_the_url(tmp_path: Path) -> None:
    forge = GitHubForge("acme/shop", "ghp_secret", work_dir=tmp_path)
    assert forge.git_remote_url == "https://github.com/acme/shop.git"
    assert "ghp_secret" not in forge.git_remote_url
    assert forge.git.extra_env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert forge.git.extra_env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")
    with pytest.raises(ValueError, match="owner/name"):
        GitHubForge("not a repo", "t", work_dir=tmp_path)


def _request(fake: FakeGitHub, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{fake.api_url}{path}", data=data, method=method)
    request.add_header("Authorization", f"token {token or fake.token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_fake_github_speaks_the_documented_shapes(fake_github: FakeGitHub, repo: Any) -> None:
    assert _request(fake_github, "GET", "/repos/acme/shop", token="nope")[0] == 401
    status, missing = _request(fake_github, "GET", "/repos/acme/other")
    assert status == 404 and missing["message"] == "Not Found" and "documentation_url" in missing
    status, repo_json = _request(fake_github, "GET", "/repos/acme/shop")
    assert status == 200 and repo_json["full_name"] == "acme/shop" and repo_json["default_branch"] == "main"
    status, created = _request(fake_github, "POST", "/repos/acme/shop/pulls", {"head": "main", "base": "staging", "title": "t"})
    assert status == 422 and created["message"] == "Validation Failed"
    status, merges = _request(fake_github, "POST", "/repos/acme/shop/merges", {"base": "main", "head": "staging"})
    assert status == 204 and merges is None
    status, ref = _request(fake_github, "GET", "/repos/acme/shop/git/ref/heads/main")
    assert status == 200 and ref["object"]["sha"] == repo.remote_head("main")
    status, combined = _request(fake_github, "GET", f"/repos/acme/shop/commits/{repo.remote_head('main')}/status")
    assert status == 200 and combined["state"] == "pending" and combined["total_count"] == 0
