"""Pull requests: ``/pulls``, ``/pulls/{n}``, ``/pulls/{n}/merge`` and the pull request's ``/issues/{n}`` labels and comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .git import BareRepository
from .protocol import HttpError, now
from .site import Site

__all__ = ["FakePull", "PullsApi"]


@dataclass
class FakePull:
    """A pull request held by the fake (inspect it in tests)."""

    number: int
    head: str
    base: str
    title: str
    body: str
    head_sha: str
    state: str = "open"
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)


class PullsApi:
    """The pull request routes over ``pulls`` (number -> pull request)."""

    def __init__(self, site: Site, repo: BareRepository, pulls: dict[int, FakePull]) -> None:
        self.site = site
        self.repo = repo
        self.pulls = pulls

    def route(self, method: str, rest: str, arg: dict[str, str], body: Any) -> tuple[int, Any] | None:
        """The answer to ``method`` on ``rest`` (the path below the repository), None when no route here serves it."""
        if rest == "/pulls" and method == "GET":
            return 200, self._list_pulls(arg)
        if rest == "/pulls" and method == "POST":
            return 201, self._create_pull(body)
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            pull = self._pull(m.group(1))
            if method == "GET":
                return 200, self._pull_json(pull)
            if method == "PATCH":
                return 200, self._edit_pull(pull, body)
        if m := re.fullmatch(r"/pulls/(\d+)/merge", rest):
            pull = self._pull(m.group(1))
            if method == "GET":
                if pull.merged_at is None:
                    raise HttpError(404, "Not Found")
                return 204, None
            if method == "PUT":
                return 200, self._merge_pull(pull, body or {})
        if m := re.fullmatch(r"/issues/(\d+)/labels", rest):
            pull = self._pull(m.group(1))
            if method == "POST":
                names = body if isinstance(body, list) else (body or {}).get("labels", [])
                for name in names:
                    if name not in pull.labels:
                        pull.labels.append(str(name))
            if method in ("GET", "POST"):
                return 200, [self._label_json(n) for n in pull.labels]
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            pull = self._pull(m.group(1))
            if method == "POST":
                text = str((body or {}).get("body", ""))
                if not text:
                    raise HttpError(
                        422, "Validation Failed", [{"resource": "IssueComment", "field": "body", "code": "missing_field"}]
                    )
                pull.comments.append(text)
                return 201, {
                    "id": len(pull.comments),
                    "body": text,
                    "user": self.site.user_json(),
                    "created_at": now(),
                    "url": f"{self.site.repo_url}/issues/comments/{len(pull.comments)}",
                }
            if method == "GET":
                return 200, [{"id": i + 1, "body": c, "user": self.site.user_json()} for i, c in enumerate(pull.comments)]
        return None

    # ---- JSON shapes ------------------------------------------------------------------------

    def _label_json(self, name: str) -> dict[str, Any]:
        return {
            "id": abs(hash(name)) % 10**8,
            "name": name,
            "color": "ededed",
            "default": False,
            "url": f"{self.site.repo_url}/labels/{name}",
        }

    def _pull_json(self, pull: FakePull, *, full: bool = True) -> dict[str, Any]:
        """The pull request as GitHub returns it (``full=False``: as its list endpoint does)."""
        site = self.site
        if pull.state == "open":
            pull.head_sha = self.repo.branch_sha(pull.head) or pull.head_sha
        url = f"{site.repo_url}/pulls/{pull.number}"
        data: dict[str, Any] = {
            "id": 1000 + pull.number,
            "number": pull.number,
            "url": url,
            "html_url": f"{site.api_url}/{site.full_name}/pull/{pull.number}",
            "issue_url": f"{site.repo_url}/issues/{pull.number}",
            "comments_url": f"{site.repo_url}/issues/{pull.number}/comments",
            "statuses_url": f"{site.repo_url}/statuses/{pull.head_sha}",
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "user": site.user_json(),
            "labels": [self._label_json(n) for n in pull.labels],
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.updated_at if pull.state == "closed" else None,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "head": {
                "label": f"{site.owner}:{pull.head}",
                "ref": pull.head,
                "sha": pull.head_sha,
                "repo": site.repo_json(),
                "user": site.user_json(),
            },
            "base": {
                "label": f"{site.owner}:{pull.base}",
                "ref": pull.base,
                "sha": self.repo.branch_sha(pull.base),
                "repo": site.repo_json(),
                "user": site.user_json(),
            },
        }
        if full:  # GitHub's list endpoint leaves these out
            data.update({"merged": pull.merged_at is not None, "mergeable": pull.state == "open", "comments": len(pull.comments)})
        return data

    # ---- routes -----------------------------------------------------------------------------

    def _pull(self, number: str) -> FakePull:
        pull = self.pulls.get(int(number))
        if pull is None:
            raise HttpError(404, "Not Found")
        return pull

    def _list_pulls(self, arg: dict[str, str]) -> list[dict[str, Any]]:
        state = arg.get("state", "open")
        head = arg.get("head")
        found = [
            p
            for p in self.pulls.values()
            if state in ("all", p.state)
            and (head is None or head in (f"{self.site.owner}:{p.head}", p.head))
            and ("base" not in arg or p.base == arg["base"])
        ]
        found.sort(key=lambda p: p.number, reverse=arg.get("direction", "desc" if "sort" in arg else "asc") == "desc")
        return [self._pull_json(p, full=False) for p in found]

    def _create_pull(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("head") or not body.get("base") or not body.get("title"):
            raise HttpError(422, "Validation Failed", [{"resource": "PullRequest", "code": "missing_field"}])
        head = str(body["head"]).split(":", 1)[-1]
        base = str(body["base"])
        head_sha, base_sha = self.repo.branch_sha(head), self.repo.branch_sha(base)
        if head_sha is None or base_sha is None:
            field_name = "head" if head_sha is None else "base"
            raise HttpError(422, "Validation Failed", [{"resource": "PullRequest", "field": field_name, "code": "invalid"}])
        if any(p.head == head and p.base == base and p.state == "open" for p in self.pulls.values()):
            raise HttpError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {self.site.owner}:{head}.",
                    }
                ],
            )
        if self.repo.is_ancestor(head_sha, base_sha):
            raise HttpError(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "code": "custom", "message": f"No commits between {base} and {head}"}],
            )
        number = max([*self.pulls, 0]) + 1
        pull = FakePull(
            number=number, head=head, base=base, title=str(body["title"]), body=str(body.get("body") or ""), head_sha=head_sha
        )
        self.pulls[number] = pull
        return self._pull_json(pull)

    def _edit_pull(self, pull: FakePull, body: Any) -> dict[str, Any]:
        data = body if isinstance(body, dict) else {}
        if "state" in data:
            if data["state"] not in ("open", "closed"):
                raise HttpError(422, "Validation Failed", [{"resource": "PullRequest", "field": "state", "code": "invalid"}])
            if pull.merged_at is None:
                pull.state = data["state"]
        for key in ("title", "body"):
            if key in data:
                setattr(pull, key, str(data[key]))
        pull.updated_at = now()
        return self._pull_json(pull)

    def _merge_pull(self, pull: FakePull, body: dict[str, Any]) -> dict[str, Any]:
        if pull.state != "open" or pull.merged_at is not None:
            raise HttpError(405, "Pull Request is not mergeable")
        head_sha = self.repo.branch_sha(pull.head) or pull.head_sha
        if body.get("sha") and body["sha"] != head_sha:
            raise HttpError(409, "Head branch was modified. Review and try the merge again.")
        method = body.get("merge_method", "merge")
        if method not in ("merge", "squash"):
            raise HttpError(422, f"Merge method {method} is not supported by FakeGitHub")
        title = body.get("commit_title") or (
            f"Merge pull request #{pull.number} from {self.site.owner}/{pull.head}"
            if method == "merge"
            else f"{pull.title} (#{pull.number})"
        )
        message = f"{title}\n\n{body['commit_message']}" if body.get("commit_message") else title
        sha = self.repo.merge(base=pull.base, head_sha=head_sha, message=message, squash=method == "squash")
        if sha is None:
            raise HttpError(405, "Pull Request is not mergeable")
        pull.state, pull.merged_at, pull.merge_commit_sha, pull.head_sha = "closed", now(), sha, head_sha
        pull.updated_at = now()
        return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
