"""A forge on GitHub: pull requests, statuses and branch merges through PyGithub; pushes, reverts
and checkouts through git against ``git_remote_url``.

PyGithub is synchronous, so every API call runs in a worker thread (``asyncio.to_thread``). The
token reaches git as an ``http.extraHeader`` in the environment of the git process, never in a
URL or an argument, and is scrubbed from every error message.
"""

from __future__ import annotations

import asyncio
import base64
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

from github import Auth, Github, GithubException, GithubRetry
from github.PullRequest import PullRequest as GithubPull

from .git import SAFE_PROTOCOLS, Git, check_branch_name, check_sha, redact
from .locking import file_lock
from .model import (
    CommitStatus,
    ForgeError,
    MergeConflictError,
    PullRequest,
    PullRequestClosedError,
    PullRequestNotFoundError,
    PushRejectedError,
    RefNotFoundError,
    StatusState,
)
from .workspace import Workspace, checkout_ref, clone_dir_for

__all__ = ["GitHubForge", "default_git_remote_url"]

T = TypeVar("T")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_MERGE_METHODS = ("merge", "squash", "rebase")


def default_git_remote_url(repo: str, api_url: str) -> str:
    """The HTTPS clone URL of ``repo`` for an API URL (github.com, or GitHub Enterprise ``/api/v3``)."""
    parsed = urlparse(api_url)
    host = parsed.netloc
    if host == "api.github.com":
        host = "github.com"
    return f"{parsed.scheme or 'https'}://{host}/{repo}.git"


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    text = str(data.get("message") or exc.message or "")
    errors = data.get("errors")
    if isinstance(errors, list):
        details = [str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)]
        if details:
            text = f"{text}: {'; '.join(details)}"
    return text or f"HTTP {exc.status}"


class GitHubForge:
    """The :class:`~medic_forge.Forge` of a GitHub repository ``owner/name``.

    ``git_remote_url`` is where git pushes and clones (default: the HTTPS URL for ``api_url``;
    tests give a local bare repository). ``work_dir`` holds the private clone used for reverts
    (default: ``<tmp>/medic-forge``; services should pass a directory of their own).
    """

    name = "github"

    def __init__(
        self,
        repo: str,
        token: str,
        api_url: str = "https://api.github.com",
        git_remote_url: str | None = None,
        *,
        work_dir: Path | None = None,
        merge_method: Literal["merge", "squash", "rebase"] = "merge",
        http_timeout_s: int = 15,
        retries: int = 3,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
        git_timeout_s: float = 300.0,
        lock_timeout_s: float = 300.0,
        author_name: str = "Medic",
        author_email: str = "medic@localhost",
    ) -> None:
        if not _REPO.match(repo):
            raise ValueError(f"repo must be 'owner/name', got {repo!r}")
        if merge_method not in _MERGE_METHODS:
            raise ValueError(f"merge_method must be one of {', '.join(_MERGE_METHODS)}")
        if not token:
            raise ValueError("a GitHub token is required")
        self.repo = repo
        self.owner = repo.split("/", 1)[0]
        self.api_url = api_url.rstrip("/")
        self.git_remote_url = git_remote_url or default_git_remote_url(repo, self.api_url)
        # the private clone for reverts; a shared temp location unless the service gives its own
        self.work_dir = (work_dir or Path(tempfile.gettempdir()) / "medic-forge").resolve()
        self.merge_method = merge_method
        self.lock_timeout_s = lock_timeout_s
        self._token = token
        self._github = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=http_timeout_s,
            retry=GithubRetry(total=retries, backoff_factor=0.5) if retries > 0 else None,
            # GitHub asks integrators to pace writes; PyGithub's defaults do (tests turn it off)
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
        )
        self._repo = self._github.get_repo(repo)
        self._api_lock = threading.Lock()  # one PyGithub requester, used from worker threads
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env: dict[str, str] = {}
        if self.git_remote_url.startswith(("http://", "https://")):
            env = {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            }
        # plain http only when the remote itself is http (a GitHub Enterprise or test server on loopback)
        protocols = (*SAFE_PROTOCOLS, "http") if self.git_remote_url.startswith("http://") else SAFE_PROTOCOLS
        self.git = Git(
            timeout_s=git_timeout_s,
            author_name=author_name,
            author_email=author_email,
            extra_env=env,
            secrets=(token, basic),
            protocols=protocols,
        )
        self._workspace = Workspace(
            remote_url=self.git_remote_url, path=clone_dir_for(self.work_dir, self.git_remote_url), git=self.git
        )

    # ---------------------------------------------------------------------------------------
    # plumbing

    async def _api(self, call: Callable[[], T], *, what: str) -> T:
        def locked() -> T:
            with self._api_lock:
                return call()

        try:
            return await asyncio.to_thread(locked)
        except GithubException as exc:
            raise self._error(exc, what) from None

    def _error(self, exc: GithubException, what: str) -> ForgeError:
        text = redact(_message(exc), (self._token,))
        if exc.status == 404:
            return RefNotFoundError(f"{what}: not found on GitHub ({text})")
        if exc.status == 401:
            return ForgeError(f"{what}: GitHub rejected the token (401 {text})")
        return ForgeError(f"{what}: GitHub answered {exc.status}: {text}")

    def _to_pull(self, pr: GithubPull) -> PullRequest:
        merged = pr.merged_at is not None
        return PullRequest(
            number=pr.number,
            url=pr.html_url,
            head=pr.head.ref,
            base=pr.base.ref,
            head_sha=pr.head.sha,
            state="merged" if merged else pr.state,
            merge_sha=pr.merge_commit_sha if merged else None,
            title=pr.title,
            labels=tuple(label.name for label in pr.labels),
            body=pr.body or "",
        )

    def _pulls(self, head: str, base: str) -> list[GithubPull]:
        pulls = self._repo.get_pulls(state="all", head=f"{self.owner}:{head}", base=base, sort="created", direction="desc")
        return [p for p in pulls if p.head.ref == head and p.base.ref == base]

    @staticmethod
    def _pick(pulls: list[GithubPull]) -> GithubPull | None:
        open_ = [p for p in pulls if p.state == "open"]
        if open_:
            return open_[0]
        return pulls[0] if pulls else None

    def _lock(self) -> Any:
        return file_lock(self._workspace.path.with_suffix(".lock"), timeout_s=self.lock_timeout_s)

    # ---------------------------------------------------------------------------------------
    # Forge

    async def push_branch(self, *, clone: Path, branch: str, force: bool = False) -> str:
        """Push ``branch`` from ``clone`` to ``git_remote_url``; a no-op when the remote already has it."""
        check_branch_name(branch)
        result = await self.git.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", cwd=clone, check=False)
        sha = result.stdout.strip()
        if not sha:
            raise RefNotFoundError(f"branch {branch} does not exist in {clone}")
        if await self.branch_head(branch=branch) == sha:
            return sha
        spec = f"{'+' if force else ''}{sha}:refs/heads/{branch}"
        push = await self.git.run(
            "-c", "core.hooksPath=/dev/null", "push", "--quiet", "--porcelain", self.git_remote_url, spec, cwd=clone, check=False
        )
        if not push.ok:
            if "rejected" in push.stderr or "[rejected]" in push.stdout:
                raise PushRejectedError(f"push of {branch} rejected: the remote branch has commits the clone lacks")
            raise ForgeError(f"push of {branch} failed: {push.stderr.strip() or push.stdout.strip()}")
        return sha

    async def find_pull_request(self, *, head: str, base: str) -> PullRequest | None:
        """The open pull request ``head`` → ``base``, else the latest closed or merged one, else None."""
        check_branch_name(head)
        check_branch_name(base)

        def find() -> PullRequest | None:
            chosen = self._pick(self._pulls(head, base))
            return self._to_pull(chosen) if chosen is not None else None

        return await self._api(find, what=f"find pull request {head} → {base}")

    async def open_pull_request(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()) -> PullRequest:
        """Find or create the pull request ``head`` → ``base``; missing labels are added."""
        check_branch_name(head)
        check_branch_name(base)
        head_sha = await self.branch_head(branch=head)
        if head_sha is None:
            raise RefNotFoundError(f"branch {head} does not exist on GitHub")

        def open_() -> PullRequest:
            chosen = self._pick(self._pulls(head, base))
            reuse = chosen is not None and (
                chosen.state == "open" or (chosen.merged_at is not None and chosen.head.sha == head_sha)
            )
            if not reuse:
                try:
                    chosen = self._repo.create_pull(base=base, head=head, title=title, body=body)
                except GithubException as exc:
                    # created by a concurrent caller (or an earlier try whose answer was lost)
                    if exc.status != 422 or "already exists" not in _message(exc):
                        raise
                    chosen = self._pick(self._pulls(head, base))
                    if chosen is None:
                        raise
            assert chosen is not None
            have = {label.name for label in chosen.labels}
            missing = [label for label in dict.fromkeys(labels) if label not in have]
            if missing:
                chosen.add_to_labels(*missing)
                chosen = self._repo.get_pull(chosen.number)
            return self._to_pull(chosen)

        return await self._api(open_, what=f"open pull request {head} → {base}")

    async def get_pull_request(self, *, number: int) -> PullRequest:
        """The pull request ``number`` (raises :class:`PullRequestNotFoundError`)."""
        try:
            return await self._api(lambda: self._to_pull(self._repo.get_pull(number)), what=f"pull request #{number}")
        except RefNotFoundError as exc:
            raise PullRequestNotFoundError(f"no pull request #{number}") from exc

    async def list_pull_requests(self, *, state: Literal["open", "closed", "merged", "all"] = "open") -> list[PullRequest]:
        """Pull requests in ``state`` (``all`` for every one), oldest first."""
        query = "open" if state == "open" else "all" if state == "all" else "closed"

        def list_() -> list[PullRequest]:
            found = [self._to_pull(p) for p in self._repo.get_pulls(state=query, sort="created", direction="asc")]
            return [p for p in found if state in ("all", "open") or p.state == state]

        return await self._api(list_, what="list pull requests")

    async def merge_pull_request(self, *, number: int, message: str) -> str:
        """Merge pull request ``number`` with ``merge_method``; return the merge commit sha."""
        title, _, rest = message.strip().partition("\n")

        def merge() -> str:
            pr = self._repo.get_pull(number)
            if pr.merged_at is not None:
                return str(pr.merge_commit_sha)
            if pr.state != "open":
                raise PullRequestClosedError(f"pull request #{number} is closed")
            try:
                status = pr.merge(
                    commit_title=title, commit_message=rest.strip(), merge_method=self.merge_method, sha=pr.head.sha
                )
            except GithubException as exc:
                if exc.status == 405:
                    raise MergeConflictError(f"pull request #{number} cannot be merged: {_message(exc)}") from None
                if exc.status == 409:
                    raise PushRejectedError(f"pull request #{number}: the head branch moved during the merge") from None
                raise
            if not status.merged:
                raise ForgeError(f"pull request #{number} was not merged: {status.message}")
            return str(status.sha)

        try:
            return await self._api(merge, what=f"merge pull request #{number}")
        except RefNotFoundError as exc:
            raise PullRequestNotFoundError(f"no pull request #{number}") from exc

    async def close_pull_request(self, *, number: int) -> PullRequest:
        """Close an open pull request without merging (a no-op when it is already closed or merged)."""

        def close() -> PullRequest:
            pr = self._repo.get_pull(number)
            if pr.state == "open":
                pr.edit(state="closed")
                pr = self._repo.get_pull(number)
            return self._to_pull(pr)

        return await self._api(close, what=f"close pull request #{number}")

    async def add_comment(self, *, number: int, body: str) -> None:
        """Comment on pull request ``number``."""
        await self._api(lambda: self._repo.get_pull(number).create_issue_comment(body), what=f"comment on #{number}")

    async def set_commit_status(
        self, *, sha: str, state: StatusState, context: str, description: str = "", target_url: str | None = None
    ) -> CommitStatus:
        """Set a commit status (``POST /repos/{o}/{r}/statuses/{sha}``)."""
        full = check_sha(sha)

        def create() -> CommitStatus:
            commit = self._repo.get_commit(full)
            commit.raw_data  # noqa: B018  (completes the lazy commit: a short sha becomes the full one)
            if target_url is None:
                commit.create_status(state=state, description=description, context=context)
            else:
                commit.create_status(state=state, target_url=target_url, description=description, context=context)
            return CommitStatus(sha=commit.sha, state=state, context=context, description=description, target_url=target_url)

        return await self._api(create, what=f"status on {full[:12]}")

    async def commit_statuses(self, *, sha: str) -> list[CommitStatus]:
        """The latest status per context on ``sha``."""
        full = check_sha(sha)

        def statuses() -> list[CommitStatus]:
            commit = self._repo.get_commit(full)
            latest: dict[str, CommitStatus] = {}
            for status in commit.get_statuses():  # newest first, as GitHub lists them
                if status.context not in latest:
                    latest[status.context] = CommitStatus(
                        sha=commit.sha,
                        state=status.state,  # type: ignore[arg-type]  # GitHub's four states
                        context=status.context,
                        description=status.description or "",
                        target_url=status.target_url,
                    )
            return list(latest.values())

        return await self._api(statuses, what=f"statuses of {full[:12]}")

    async def merge_branch(self, *, source: str, target: str, message: str) -> str:
        """Merge ``source`` into ``target`` with ``POST /merges``; nothing new returns ``target``'s head."""
        check_branch_name(source)
        check_branch_name(target)

        def merge() -> str | None:
            try:
                commit = self._repo.merge(base=target, head=source, commit_message=message)
            except GithubException as exc:
                if exc.status == 409:
                    raise MergeConflictError(f"merging {source} into {target} conflicts: {_message(exc)}") from None
                raise
            return commit.sha if commit is not None else None

        merged = await self._api(merge, what=f"merge {source} → {target}")
        if merged is not None:
            return merged
        head = await self.branch_head(branch=target)
        if head is None:
            raise RefNotFoundError(f"branch {target} does not exist on GitHub")
        return head

    async def revert_commit(self, *, branch: str, sha: str, message: str) -> str:
        """Revert ``sha`` on ``branch`` in a private clone and push; an existing revert is returned."""
        return await self._workspace.revert_under(self._lock, branch=branch, sha=sha, message=message)

    async def branch_head(self, *, branch: str) -> str | None:
        """The sha of ``branch`` on GitHub (``GET /git/ref/heads/<branch>``), or None."""
        check_branch_name(branch)
        try:
            return await self._api(lambda: str(self._repo.get_git_ref(f"heads/{branch}").object.sha), what=f"branch {branch}")
        except RefNotFoundError:
            return None

    async def fetch_ref(self, *, ref: str, into: Path) -> Path:
        """A clean detached checkout of ``ref`` (branch, tag or sha) cloned from ``git_remote_url``."""
        return await checkout_ref(git=self.git, remote_url=self.git_remote_url, ref=ref, into=into)
