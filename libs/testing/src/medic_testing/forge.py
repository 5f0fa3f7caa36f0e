"""FakeGitHub: a local HTTP server speaking the part of GitHub's REST API that Medic uses.

Use it in tests of anything that talks to GitHub through PyGithub (or plain HTTP). It is backed
by a real bare git repository, so branches are real, merges are real ``git merge`` commits, and
``git push`` to the bare repository is what "pushing to GitHub" means::

    from medic_forge import GitHubForge
    from medic_testing.forge import FakeGitHub

    with FakeGitHub(bare_repo, repo="acme/shop", token="t0ken") as gh:
        forge = GitHubForge("acme/shop", "t0ken", api_url=gh.api_url, git_remote_url=str(bare_repo),
                            work_dir=tmp_path / "work", **gh.fast_client_options)
        ...
        assert gh.pulls[1].state == "open"            # inspect what the client did
        assert ("PUT", "/repos/acme/shop/pulls/1/merge") in gh.calls
        gh.fail_next("PUT", r"/pulls/\\d+/merge$", 502, {"message": "Bad gateway"})  # inject a failure

Routes (``/repos/{owner}/{repo}`` prefix; JSON as GitHub documents it, errors as
``{"message": ..., "documentation_url": ...}``, 401 for a missing or wrong token):

- ``GET  ``: the repository
- ``GET /pulls`` (``state``, ``head=owner:branch``, ``base``, ``sort``, ``direction``),
  ``POST /pulls`` (422 when a pull request for head/base is open, or a branch is missing, or
  there are no commits between them), ``GET|PATCH /pulls/{n}`` (``state``, ``title``, ``body``)
- ``PUT /pulls/{n}/merge`` (``merge_method`` merge or squash, ``sha``, ``commit_title``,
  ``commit_message``; 405 when not mergeable or conflicting, 409 when ``sha`` is stale),
  ``GET /pulls/{n}/merge`` (204 merged, 404 not)
- ``GET|POST /issues/{n}/labels``, ``GET|POST /issues/{n}/comments``
- ``POST /merges`` (201 merge commit, 204 nothing to merge, 404 missing branch, 409 conflict)
- ``GET /commits/{ref}``, ``GET /commits/{ref}/statuses``, ``GET /commits/{ref}/status``,
  ``GET|POST /statuses/{sha}``
- ``GET /git/ref/heads/{branch}``, ``GET /git/refs/heads/{branch}``, ``GET /branches/{branch}``

Everything runs in a daemon thread on an ephemeral 127.0.0.1 port; ``close()`` (or leaving the
``with`` block) stops it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from medic_forge.git import hardened_argv, hardened_env

__all__ = ["FakeGitHub", "FakePull"]

_DOCS = "https://docs.github.com/rest"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _HttpError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": _DOCS}
        if errors:
            self.body["errors"] = errors


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
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)


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
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-github", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------------------------------
    # lifecycle and test hooks

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
        payload = body if body is not None else {"message": "injected failure", "documentation_url": _DOCS}
        with self._lock:
            self._failures.append(_Failure(method.upper(), re.compile(path_pattern), status, payload))

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

    # ---------------------------------------------------------------------------------------
    # git

    def _git(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR")}
        env.update(
            {
                "LC_ALL": "C",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": "GitHub",
                "GIT_AUTHOR_EMAIL": "noreply@github.com",
                "GIT_COMMITTER_NAME": "GitHub",
                "GIT_COMMITTER_EMAIL": "noreply@github.com",
            }
        )
        if cwd is None:
            args = ("--git-dir", str(self.remote), *args)
        argv = [*hardened_argv(), *args]
        result = subprocess.run(argv, cwd=cwd, env=hardened_env(env), capture_output=True, text=True, timeout=60, check=False)
        if check and result.returncode != 0:
            raise _HttpError(500, f"git {' '.join(args[:3])} failed: {result.stderr.strip()}")
        return result

    def _sha(self, ref: str) -> str | None:
        result = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def branch_sha(self, branch: str) -> str | None:
        """The sha of ``branch`` in the backing repository (None when missing)."""
        return self._sha(f"refs/heads/{branch}")

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self._git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def _clone(self) -> Path:
        clone = self._scratch / "clone"
        if not (clone / ".git").is_dir():
            self._git("clone", "--quiet", "--no-checkout", str(self.remote), str(clone), cwd=self._scratch)
        self._git("fetch", "--quiet", "--prune", "--force", "origin", "+refs/heads/*:refs/remotes/origin/*", cwd=clone)
        return clone

    def _merge(self, *, base: str, head_sha: str, message: str, squash: bool = False) -> str | None:
        """Merge ``head_sha`` into ``base`` for real; None on conflict (nothing is pushed)."""
        clone = self._clone()
        base_sha = self.branch_sha(base)
        if base_sha is None:
            raise _HttpError(404, "Base does not exist")
        self._git("checkout", "--quiet", "--force", "--detach", base_sha, cwd=clone)
        self._git("clean", "-ffdxq", cwd=clone)
        args = ["merge", "--squash", head_sha] if squash else ["merge", "--no-ff", "--no-edit", "-m", message, head_sha]
        merged = self._git(*args, cwd=clone, check=False)
        if merged.returncode != 0:
            self._git("merge", "--abort", cwd=clone, check=False)
            self._git("reset", "--quiet", "--hard", base_sha, cwd=clone, check=False)
            return None
        if squash:
            self._git("commit", "--quiet", "--no-verify", "-m", message, cwd=clone)
        sha = self._git("rev-parse", "HEAD", cwd=clone).stdout.strip()
        self._git("push", "--quiet", "origin", f"{sha}:refs/heads/{base}", cwd=clone)
        return sha

    # ---------------------------------------------------------------------------------------
    # JSON shapes

    def _repo_url(self) -> str:
        return f"{self.api_url}/repos/{self.full_name}"

    def _user(self) -> dict[str, Any]:
        return {"login": self.owner, "id": 1, "type": "User", "url": f"{self.api_url}/users/{self.owner}"}

    def _repo_json(self) -> dict[str, Any]:
        return {
            "id": 1,
            "name": self.name,
            "full_name": self.full_name,
            "owner": self._user(),
            "private": True,
            "url": self._repo_url(),
            "html_url": f"{self.api_url}/{self.full_name}",
            "clone_url": str(self.remote),
            "default_branch": self.default_branch,
        }

    def _label_json(self, name: str) -> dict[str, Any]:
        return {
            "id": abs(hash(name)) % 10**8,
            "name": name,
            "color": "ededed",
            "default": False,
            "url": f"{self._repo_url()}/labels/{name}",
        }

    def _pull_json(self, pull: FakePull, *, full: bool = True) -> dict[str, Any]:
        if pull.state == "open":
            pull.head_sha = self.branch_sha(pull.head) or pull.head_sha
        url = f"{self._repo_url()}/pulls/{pull.number}"
        data: dict[str, Any] = {
            "id": 1000 + pull.number,
            "number": pull.number,
            "url": url,
            "html_url": f"{self.api_url}/{self.full_name}/pull/{pull.number}",
            "issue_url": f"{self._repo_url()}/issues/{pull.number}",
            "comments_url": f"{self._repo_url()}/issues/{pull.number}/comments",
            "statuses_url": f"{self._repo_url()}/statuses/{pull.head_sha}",
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "user": self._user(),
            "labels": [self._label_json(n) for n in pull.labels],
            "created_at": pull.created_at,
            "updated_at": pull.updated_at,
            "closed_at": pull.updated_at if pull.state == "closed" else None,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "head": {
                "label": f"{self.owner}:{pull.head}",
                "ref": pull.head,
                "sha": pull.head_sha,
                "repo": self._repo_json(),
                "user": self._user(),
            },
            "base": {
                "label": f"{self.owner}:{pull.base}",
                "ref": pull.base,
                "sha": self.branch_sha(pull.base),
                "repo": self._repo_json(),
                "user": self._user(),
            },
        }
        if full:  # GitHub's list endpoint leaves these out
            data.update({"merged": pull.merged_at is not None, "mergeable": pull.state == "open", "comments": len(pull.comments)})
        return data

    def _commit_json(self, sha: str) -> dict[str, Any]:
        raw = self._git("show", "-s", "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B", sha).stdout
        full, parents, name, email, date, message = raw.split("\x1f", 5)
        person = {"name": name, "email": email, "date": date}
        return {
            "sha": full,
            "url": f"{self._repo_url()}/commits/{full}",
            "html_url": f"{self.api_url}/{self.full_name}/commit/{full}",
            "commit": {
                "message": message.strip(),
                "author": person,
                "committer": person,
                "url": f"{self._repo_url()}/git/commits/{full}",
            },
            "parents": [{"sha": p, "url": f"{self._repo_url()}/commits/{p}"} for p in parents.split()],
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
            "url": f"{self._repo_url()}/statuses/{status['sha']}",
        }

    # ---------------------------------------------------------------------------------------
    # routes

    def _pull(self, number: str) -> FakePull:
        pull = self.pulls.get(int(number))
        if pull is None:
            raise _HttpError(404, "Not Found")
        return pull

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        prefix = f"/repos/{self.full_name}"
        if not (path == prefix or path.startswith(prefix + "/")):
            raise _HttpError(404, "Not Found")
        rest = path[len(prefix) :]
        arg = {k: v[-1] for k, v in query.items()}
        if rest == "" and method == "GET":
            return 200, self._repo_json()
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
                    raise _HttpError(404, "Not Found")
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
                    raise _HttpError(
                        422, "Validation Failed", [{"resource": "IssueComment", "field": "body", "code": "missing_field"}]
                    )
                pull.comments.append(text)
                return 201, {
                    "id": len(pull.comments),
                    "body": text,
                    "user": self._user(),
                    "created_at": _now(),
                    "url": f"{self._repo_url()}/issues/comments/{len(pull.comments)}",
                }
            if method == "GET":
                return 200, [{"id": i + 1, "body": c, "user": self._user()} for i, c in enumerate(pull.comments)]
        if rest == "/merges" and method == "POST":
            return self._merge_branches(body or {})
        if (m := re.fullmatch(r"/commits/([^/]+)", rest)) and method == "GET":
            return 200, self._commit_json(self._resolve(unquote(m.group(1))))
        if (m := re.fullmatch(r"/commits/([^/]+)/statuses", rest)) or (m := re.fullmatch(r"/statuses/([0-9a-fA-F]+)", rest)):
            sha = self._resolve(unquote(m.group(1)))
            if method == "POST" and rest.startswith("/statuses/"):
                return 201, self._create_status(sha, body or {})
            if method == "GET":
                found = [s for s in self.statuses if s["sha"] == sha]
                return 200, [self._status_json(s) for s in reversed(found)]
        if (m := re.fullmatch(r"/commits/([^/]+)/status", rest)) and method == "GET":
            sha = self._resolve(unquote(m.group(1)))
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
            tip = self.branch_sha(branch)
            if tip is None:
                raise _HttpError(404, "Not Found")
            ref = f"refs/heads/{branch}"
            target = {"sha": tip, "type": "commit", "url": f"{self._repo_url()}/git/commits/{tip}"}
            return 200, {"ref": ref, "url": f"{self._repo_url()}/git/{ref}", "object": target}
        if (m := re.fullmatch(r"/branches/(.+)", rest)) and method == "GET":
            branch = unquote(m.group(1))
            tip = self.branch_sha(branch)
            if tip is None:
                raise _HttpError(404, "Branch not found")
            return 200, {"name": branch, "commit": self._commit_json(tip), "protected": False}
        raise _HttpError(404, "Not Found")

    def _resolve(self, ref: str) -> str:
        sha = self._sha(ref) if re.fullmatch(r"[0-9a-fA-F]{7,64}", ref) else self.branch_sha(ref)
        if sha is None:
            raise _HttpError(422, f"No commit found for SHA: {ref}")
        return sha

    def _list_pulls(self, arg: dict[str, str]) -> list[dict[str, Any]]:
        state = arg.get("state", "open")
        head = arg.get("head")
        found = [
            p
            for p in self.pulls.values()
            if state in ("all", p.state)
            and (head is None or head in (f"{self.owner}:{p.head}", p.head))
            and ("base" not in arg or p.base == arg["base"])
        ]
        found.sort(key=lambda p: p.number, reverse=arg.get("direction", "desc" if "sort" in arg else "asc") == "desc")
        return [self._pull_json(p, full=False) for p in found]

    def _create_pull(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body.get("head") or not body.get("base") or not body.get("title"):
            raise _HttpError(422, "Validation Failed", [{"resource": "PullRequest", "code": "missing_field"}])
        head = str(body["head"]).split(":", 1)[-1]
        base = str(body["base"])
        head_sha, base_sha = self.branch_sha(head), self.branch_sha(base)
        if head_sha is None or base_sha is None:
            field_name = "head" if head_sha is None else "base"
            raise _HttpError(422, "Validation Failed", [{"resource": "PullRequest", "field": field_name, "code": "invalid"}])
        if any(p.head == head and p.base == base and p.state == "open" for p in self.pulls.values()):
            raise _HttpError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {self.owner}:{head}.",
                    }
                ],
            )
        if self._is_ancestor(head_sha, base_sha):
            raise _HttpError(
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
                raise _HttpError(422, "Validation Failed", [{"resource": "PullRequest", "field": "state", "code": "invalid"}])
            if pull.merged_at is None:
                pull.state = data["state"]
        for key in ("title", "body"):
            if key in data:
                setattr(pull, key, str(data[key]))
        pull.updated_at = _now()
        return self._pull_json(pull)

    def _merge_pull(self, pull: FakePull, body: dict[str, Any]) -> dict[str, Any]:
        if pull.state != "open" or pull.merged_at is not None:
            raise _HttpError(405, "Pull Request is not mergeable")
        head_sha = self.branch_sha(pull.head) or pull.head_sha
        if body.get("sha") and body["sha"] != head_sha:
            raise _HttpError(409, "Head branch was modified. Review and try the merge again.")
        method = body.get("merge_method", "merge")
        if method not in ("merge", "squash"):
            raise _HttpError(422, f"Merge method {method} is not supported by FakeGitHub")
        title = body.get("commit_title") or (
            f"Merge pull request #{pull.number} from {self.owner}/{pull.head}"
            if method == "merge"
            else f"{pull.title} (#{pull.number})"
        )
        message = f"{title}\n\n{body['commit_message']}" if body.get("commit_message") else title
        sha = self._merge(base=pull.base, head_sha=head_sha, message=message, squash=method == "squash")
        if sha is None:
            raise _HttpError(405, "Pull Request is not mergeable")
        pull.state, pull.merged_at, pull.merge_commit_sha, pull.head_sha = "closed", _now(), sha, head_sha
        pull.updated_at = _now()
        return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def _merge_branches(self, body: dict[str, Any]) -> tuple[int, Any]:
        base, head = str(body.get("base", "")), str(body.get("head", ""))
        base_sha = self.branch_sha(base) if base else None
        if base_sha is None:
            raise _HttpError(404, "Base does not exist")
        head_sha = self.branch_sha(head) or (self._sha(head) if re.fullmatch(r"[0-9a-fA-F]{7,64}", head) else None)
        if head_sha is None:
            raise _HttpError(404, "Head does not exist")
        if self._is_ancestor(head_sha, base_sha):
            return 204, None
        message = str(body.get("commit_message") or f"Merge {head} into {base}")
        sha = self._merge(base=base, head_sha=head_sha, message=message)
        if sha is None:
            raise _HttpError(409, "Merge conflict")
        return 201, self._commit_json(sha)

    def _create_status(self, sha: str, body: dict[str, Any]) -> dict[str, Any]:
        state = body.get("state")
        if state not in ("error", "failure", "pending", "success"):
            raise _HttpError(422, "Validation Failed", [{"resource": "Status", "field": "state", "code": "invalid"}])
        status = {
            "id": len(self.statuses) + 1,
            "sha": sha,
            "state": state,
            "context": str(body.get("context") or "default"),
            "description": body.get("description"),
            "target_url": body.get("target_url"),
            "created_at": _now(),
        }
        self.statuses.append(status)
        return self._status_json(status)

    # ---------------------------------------------------------------------------------------
    # HTTP

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
                return 401, {"message": "Bad credentials", "documentation_url": _DOCS}
            try:
                body = json.loads(raw_body) if raw_body else None
            except json.JSONDecodeError:
                return 400, {"message": "Problems parsing JSON", "documentation_url": _DOCS}
            self.bodies.append(body)
            try:
                return self._route(method, path, parse_qs(parsed.query), body)
            except _HttpError as exc:
                return exc.status, exc.body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output clean

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload = fake._handle(self.command, self.path, self.headers, raw)
                data = b"" if payload is None else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data:
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
