"""FakeGitHub itself: the server's lifecycle, the test hooks, authentication and routing to each API area."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from .commits import CommitsApi
from .git import BareRepository
from .protocol import DOCS, HttpError, handler_class
from .pulls import FakePull, PullsApi
from .site import Site

__all__ = ["FakeGitHub"]


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any


class FakeGitHub:
    """A GitHub REST API subset on 127.0.0.1, backed by the bare repository ``remote``."""

    def __init__(
        self,
        remote: Path,
        *,
        repo: str = "acme/shop",
        token: str = "test-token",  # noqa: S107  (the fake's own well-known test token)
        default_branch: str = "main",
    ) -> None:
        self.remote = remote.resolve()
        self.owner, self.name = repo.split("/", 1)
        self.full_name = repo
        self.token = token
        self.default_branch = default_branch
        self.pulls: dict[int, FakePull] = {}
        self.statuses: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        self._failures: list[_Failure] = []
        self._lock = threading.RLock()
        self._scratch = Path(tempfile.mkdtemp(prefix="fake-github-"))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(self._handle))
        self._server.daemon_threads = True
        self._repo = BareRepository(self.remote, scratch=self._scratch)
        self._site = Site(api_url=self.api_url, full_name=repo, remote=self.remote, default_branch=default_branch)
        self._areas = (PullsApi(self._site, self._repo, self.pulls), CommitsApi(self._site, self._repo, self.statuses))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-github", daemon=True)
        self._thread.start()

    # ---- lifecycle and test hooks -----------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Base URL to give PyGithub (``Github(base_url=...)``) or any HTTP client."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def fast_client_options(self) -> dict[str, Any]:
        """GitHubForge keyword arguments that drop PyGithub's write throttling for tests."""
        return {"seconds_between_requests": None, "seconds_between_writes": None, "retries": 0}

    def fail_next(self, method: str, path_pattern: str, status: int, body: Any = None) -> None:
        """Answer the next ``method`` request whose path matches ``path_pattern`` with ``status`` and ``body``.

        Any JSON body works (``[]`` makes a list endpoint look empty); the default is an error message.
        """
        payload = body if body is not None else {"message": "injected failure", "documentation_url": DOCS}
        with self._lock:
            self._failures.append(_Failure(method.upper(), re.compile(path_pattern), status, payload))

    def branch_sha(self, branch: str) -> str | None:
        """The sha of ``branch`` in the backing repository (None when missing)."""
        return self._repo.branch_sha(branch)

    def close(self) -> None:
        """Stop the server and remove the scratch clone."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> FakeGitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- HTTP -------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        prefix = f"/repos/{self.full_name}"
        if not (path == prefix or path.startswith(prefix + "/")):
            raise HttpError(404, "Not Found")
        rest = path[len(prefix) :]
        arg = {k: v[-1] for k, v in query.items()}
        if rest == "" and method == "GET":
            return 200, self._site.repo_json()
        for area in self._areas:
            if (answer := area.route(method, rest, arg, body)) is not None:
                return answer
        raise HttpError(404, "Not Found")

    def _handle(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> tuple[int, Any]:
        parsed = urlparse(raw_path)
        path = parsed.path.rstrip("/") or "/"
        with self._lock:
            self.calls.append((method, path))
            for failure in self._failures:
                if failure.method == method and failure.pattern.search(path):
                    self._failures.remove(failure)
                    return failure.status, failure.body
            auth = headers.get("Authorization", "")
            if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                return 401, {"message": "Bad credentials", "documentation_url": DOCS}
            try:
                body = json.loads(raw_body) if raw_body else None
            except json.JSONDecodeError:
                return 400, {"message": "Problems parsing JSON", "documentation_url": DOCS}
            self.bodies.append(body)
            try:
                return self._route(method, path, parse_qs(parsed.query), body)
            except HttpError as exc:
                return exc.status, exc.body
