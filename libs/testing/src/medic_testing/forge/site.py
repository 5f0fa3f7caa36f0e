"""The repository as the fake's API presents it: its names, its URLs, and the owner and repository JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["Site"]


class Site:
    """Where the fake serves ``full_name`` (``owner/name``) and what it says about it."""

    def __init__(self, *, api_url: str, full_name: str, remote: Path, default_branch: str) -> None:
        self.api_url = api_url
        self.full_name = full_name
        self.owner, self.name = full_name.split("/", 1)
        self.repo_url = f"{api_url}/repos/{full_name}"
        self.remote = remote
        self.default_branch = default_branch

    def user_json(self) -> dict[str, Any]:
        return {"login": self.owner, "id": 1, "type": "User", "url": f"{self.api_url}/users/{self.owner}"}

    def repo_json(self) -> dict[str, Any]:
        return {
            "id": 1,
            "name": self.name,
            "full_name": self.full_name,
            "owner": self.user_json(),
            "private": True,
            "url": self.repo_url,
            "html_url": f"{self.api_url}/{self.full_name}",
            "clone_url": str(self.remote),
            "default_branch": self.default_branch,
        }
