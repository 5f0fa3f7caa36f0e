"""The repository as the fake's API presents it: its names, its URLs, and the owner and repository JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Site"]


@dataclass(frozen=True)
class Site:
    """Where the fake serves ``owner/name`` and what it says about it."""

    api_url: str
    owner: str
    name: str
    remote: Path
    default_branch: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def repo_url(self) -> str:
        return f"{self.api_url}/repos/{self.full_name}"

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
