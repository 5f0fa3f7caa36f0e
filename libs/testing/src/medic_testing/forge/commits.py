"""Commits and refs: ``/commits/{ref}``, commit statuses, ``/merges``, ``/git/ref(s)/heads/{b}``, ``/branches/{b}``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from .git import BareRepository
from .protocol import HttpError, now
from .site import Site

__all__ = ["CommitsApi"]


class CommitsApi:
    """The commit, status and ref routes; the statuses posted are kept in ``statuses``, oldest first."""

    def __init__(self, site: Site, repo: BareRepository, statuses: list[dict[str, Any]]) -> None:
        self.site = site
        self.repo = repo
        self.statuses = statuses

    def route(self, method: str, rest: str, arg: dict[str, str], body: Any) -> tuple[int, Any] | None:
        """The answer to ``method`` on ``rest`` (the path below the repository), None when no route here serves it."""
        if rest == "/merges" and method == "POST":
            return self._merge_branches(body or {})
        if (m := re.fullmatch(r"/commits/([^/]+)", rest)) and method == "GET":
            return 200, self._commit_json(self.repo.resolve(unquote(m.group(1))))
        if (m := re.fullmatch(r"/commits/([^/]+)/statuses", rest)) or (m := re.fullmatch(r"/statuses/([0-9a-fA-F]+)", rest)):
            sha = self.repo.resolve(unquote(m.group(1)))
            if method == "POST" and rest.startswith("/statuses/"):
                return 201, self._create_status(sha, body or {})
            if method == "GET":
                found = [s for s in self.statuses if s["sha"] == sha]
                return 200, [self._status_json(s) for s in reversed(found)]
        if (m := re.fullmatch(r"/commits/([^/]+)/status", rest)) and method == "GET":
            sha = self.repo.resolve(unquote(m.group(1)))
            latest: dict[str, dict[str, Any]] = {}
            for s in self.statuses:
                if s["sha"] == sha:
                    latest[s["context"]] = s
            states = {s["state"] for s in latest.values()}
            combined = (
                "failure" if states & {"failure", "error"} else "pending" if ("pending" in states or not states) else "success"
            )
            return 200, {
                "state": combined,
                "sha": sha,
                "total_count": len(latest),
                "statuses": [self._status_json(s) for s in latest.values()],
            }
        if (m := re.fullmatch(r"/git/refs?/heads/(.+)", rest)) and method == "GET":
            branch = unquote(m.group(1))
            tip = self.repo.branch_sha(branch)
            if tip is None:
                raise HttpError(404, "Not Found")
            ref = f"refs/heads/{branch}"
            target = {"sha": tip, "type": "commit", "url": f"{self.site.repo_url}/git/commits/{tip}"}
            return 200, {"ref": ref, "url": f"{self.site.repo_url}/git/{ref}", "object": target}
        if (m := re.fullmatch(r"/branches/(.+)", rest)) and method == "GET":
            branch = unquote(m.group(1))
            tip = self.repo.branch_sha(branch)
            if tip is None:
                raise HttpError(404, "Branch not found")
            return 200, {"name": branch, "commit": self._commit_json(tip), "protected": False}
        return None

    # ---- JSON shapes ------------------------------------------------------------------------

    def _commit_json(self, sha: str) -> dict[str, Any]:
        site = self.site
        raw = self.repo.git("show", "-s", "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B", sha).stdout
        full, parents, name, email, date, message = raw.split("\x1f", 5)
        person = {"name": name, "email": email, "date": date}
        return {
            "sha": full,
            "url": f"{site.repo_url}/commits/{full}",
            "html_url": f"{site.api_url}/{site.full_name}/commit/{full}",
            "commit": {
                "message": message.strip(),
                "author": person,
                "committer": person,
                "url": f"{site.repo_url}/git/commits/{full}",
            },
            "parents": [{"sha": p, "url": f"{site.repo_url}/commits/{p}"} for p in parents.split()],
        }

    def _status_json(self, status: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": status["id"],
            "state": status["state"],
            "context": status["context"],
            "description": status["description"],
            "target_url": status["target_url"],
            "created_at": status["created_at"],
            "updated_at": status["created_at"],
            "url": f"{self.site.repo_url}/statuses/{status['sha']}",
        }

    # ---- routes -----------------------------------------------------------------------------

    def _merge_branches(self, body: dict[str, Any]) -> tuple[int, Any]:
        base, head = str(body.get("base", "")), str(body.get("head", ""))
        base_sha = self.repo.branch_sha(base) if base else None
        if base_sha is None:
            raise HttpError(404, "Base does not exist")
        head_sha = self.repo.branch_sha(head) or (self.repo.sha(head) if re.fullmatch(r"[0-9a-fA-F]{7,64}", head) else None)
        if head_sha is None:
            raise HttpError(404, "Head does not exist")
        if self.repo.is_ancestor(head_sha, base_sha):
            return 204, None
        message = str(body.get("commit_message") or f"Merge {head} into {base}")
        sha = self.repo.merge(base=base, head_sha=head_sha, message=message)
        if sha is None:
            raise HttpError(409, "Merge conflict")
        return 201, self._commit_json(sha)

    def _create_status(self, sha: str, body: dict[str, Any]) -> dict[str, Any]:
        state = body.get("state")
        if state not in ("error", "failure", "pending", "success"):
            raise HttpError(422, "Validation Failed", [{"resource": "Status", "field": "state", "code": "invalid"}])
        status = {
            "id": len(self.statuses) + 1,
            "sha": sha,
            "state": state,
            "context": str(body.get("context") or "default"),
            "description": body.get("description"),
            "target_url": body.get("target_url"),
            "created_at": now(),
        }
        self.statuses.append(status)
        return self._status_json(status)
