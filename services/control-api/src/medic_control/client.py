"""A small client of control-api's REST API (used by the ``medic`` CLI and by tools).

Where to find the API and which token to use, first found wins (for the URL and the token apart):

1. ``MEDIC_API_URL`` / ``MEDIC_TOKEN``;
2. the ``api_url`` / ``token`` keys of the CLI config file (``MEDIC_CLI_CONFIG``, default
   ``~/.config/medic/cli.toml``);
3. a running dev stack's ``stack.json`` (``MEDIC_DEV_DIR``, default ``.medic/dev``), which
   ``medic dev up`` writes with control-api's URL and the stack's admin token;
4. ``http://127.0.0.1:8080`` without a token.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ApiError", "ClientConfig", "ControlClient"]

DEFAULT_URL = "http://127.0.0.1:8080"
DEV_DIR = ".medic/dev"


class ApiError(RuntimeError):
    """The API refused a request: its status and the reason it gave."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Where the API is and the token to present."""

    api_url: str
    token: str | None
    from_env_or_file: bool

    @classmethod
    def load(cls, environ: dict[str, str] | None = None) -> ClientConfig:
        """Read the environment, then the CLI config file, then a running dev stack's state file."""
        env = dict(os.environ if environ is None else environ)
        path = Path(env.get("MEDIC_CLI_CONFIG") or Path.home() / ".config" / "medic" / "cli.toml")
        file: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as handle:
                file = tomllib.load(handle)
        stack = _dev_stack(Path(env.get("MEDIC_DEV_DIR") or DEV_DIR))
        url = env.get("MEDIC_API_URL") or file.get("api_url") or stack.get("api_url")
        token = env.get("MEDIC_TOKEN") or file.get("token") or stack.get("token")
        return cls(api_url=str(url or DEFAULT_URL).rstrip("/"), token=str(token) if token else None, from_env_or_file=bool(url))


def _dev_stack(data_dir: Path) -> dict[str, str]:
    """control-api's URL and the admin token of the dev stack running from ``data_dir`` ({} when none)."""
    try:
        state = json.loads((data_dir / "stack.json").read_text())
        return {"api_url": str(state["services"]["control-api"]["url"]), "token": str(state["admin_token"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


class ControlClient:
    """Synchronous client of ``/api/v1`` (the CLI is short-lived: no event loop needed)."""

    def __init__(self, config: ClientConfig, *, timeout: float = 15.0, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
        self.config = config
        self.http = httpx.Client(base_url=config.api_url + "/api/v1", headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; the decoded JSON body, or :class:`ApiError`."""
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ApiError(response.status_code, str(error.get("code")), str(error.get("message")))
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
        return response.json() if response.content else None

    def state(self) -> dict[str, Any]:
        """``GET /control/state``."""
        result: dict[str, Any] = self.request("GET", "/control/state")
        return result

    def pause(self, reason: str) -> dict[str, Any]:
        """``POST /control/pause``."""
        result: dict[str, Any] = self.request("POST", "/control/pause", json={"reason": reason})
        return result

    def resume(self, reason: str) -> dict[str, Any]:
        """``POST /control/resume``."""
        result: dict[str, Any] = self.request("POST", "/control/resume", json={"reason": reason})
        return result

    def scan(self, *, target: str | None, reason: str) -> dict[str, Any]:
        """``POST /control/scan``."""
        result: dict[str, Any] = self.request("POST", "/control/scan", json={"target": target, "reason": reason})
        return result

    def approvals(self, *, status: str | None = "pending") -> list[dict[str, Any]]:
        """``GET /approvals``, every page."""
        params: dict[str, Any] = {"status": status} if status else {}
        items: list[dict[str, Any]] = []
        while True:
            page: dict[str, Any] = self.request("GET", "/approvals", params=params)
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            params = {**params, "cursor": page["next_cursor"]}

    def approval(self, approval_id: str) -> dict[str, Any]:
        """``GET /approvals/{id}``."""
        result: dict[str, Any] = self.request("GET", f"/approvals/{approval_id}")
        return result

    def approve(self, approval_id: str, *, diff_hash: str, reason: str) -> dict[str, Any]:
        """``POST /approvals/{id}/approve``."""
        result: dict[str, Any] = self.request(
            "POST", f"/approvals/{approval_id}/approve", json={"diff_hash": diff_hash, "reason": reason}
        )
        return result

    def reject(self, approval_id: str, *, reason: str) -> dict[str, Any]:
        """``POST /approvals/{id}/reject``."""
        result: dict[str, Any] = self.request("POST", f"/approvals/{approval_id}/reject", json={"reason": reason})
        return result

    def issues(self, **params: Any) -> dict[str, Any]:
        """``GET /issues``."""
        result: dict[str, Any] = self.request("GET", "/issues", params={k: v for k, v in params.items() if v is not None})
        return result

    def issue(self, issue_id: str) -> dict[str, Any]:
        """``GET /issues/{id}``."""
        result: dict[str, Any] = self.request("GET", f"/issues/{issue_id}")
        return result

    def rollback(self, issue_id: str, *, reason: str) -> dict[str, Any]:
        """``POST /issues/{id}/rollback``."""
        result: dict[str, Any] = self.request("POST", f"/issues/{issue_id}/rollback", json={"reason": reason})
        return result

    def false_positive(self, issue_id: str, *, reason: str, false_positive: bool = True) -> dict[str, Any]:
        """``POST /issues/{id}/false-positive``."""
        body = {"reason": reason, "false_positive": false_positive}
        result: dict[str, Any] = self.request("POST", f"/issues/{issue_id}/false-positive", json=body)
        return result

    def weekly_review(self, *, until: str | None = None) -> dict[str, Any]:
        """``GET /review/weekly``."""
        result: dict[str, Any] = self.request("GET", "/review/weekly", params={"until": until} if until else {})
        return result

    def send_weekly_review(self, *, until: str | None = None) -> dict[str, Any]:
        """``POST /review/weekly/send``."""
        result: dict[str, Any] = self.request("POST", "/review/weekly/send", params={"until": until} if until else {})
        return result

    def create_token(self, *, name: str, role: str) -> dict[str, Any]:
        """``POST /tokens``."""
        result: dict[str, Any] = self.request("POST", "/tokens", json={"name": name, "role": role})
        return result

    def audit_head(self) -> dict[str, Any]:
        """``GET /audit/head``."""
        result: dict[str, Any] = self.request("GET", "/audit/head")
        return result

    def audit_verify(self, *, expected_head: str | None, checkpoints: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """``GET /audit/verify`` (against ``checkpoints`` too, each sent as its JSON)."""
        params: list[tuple[str, str]] = [("expected_head", expected_head)] if expected_head else []
        params += [("checkpoint", json.dumps(c, separators=(",", ":"))) for c in checkpoints or ()]
        result: dict[str, Any] = self.request("GET", "/audit/verify", params=params)
        return result

    def audit_checkpoint(self) -> dict[str, Any]:
        """``GET /audit/checkpoint``: the current signed tree head."""
        result: dict[str, Any] = self.request("GET", "/audit/checkpoint")
        return result

    def audit_key(self) -> dict[str, Any]:
        """``GET /audit/key``: the checkpoints' public key."""
        result: dict[str, Any] = self.request("GET", "/audit/key")
        return result
