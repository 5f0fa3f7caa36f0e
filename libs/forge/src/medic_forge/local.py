"""A forge on a plain bare git repository: what the demo and teams without GitHub use.

Pull requests are real records: ``refs/medic/pr/<n>/head`` in the bare repository keeps each
pull request's commits, and ``<remote>/medic-forge/pulls.json`` holds their metadata (title,
body, labels, state, shas, comments) plus commit statuses. The JSON file is replaced atomically
and every change happens under ``<remote>/medic-forge/lock`` (an ``flock``), so any number of
processes may share one remote. Merges and reverts are made in a private clone under
``work_dir`` and pushed to the bare repository.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from .git import Git, check_branch_name, check_sha
from .locking import file_lock
from .model import (
    CommitStatus,
    ForgeError,
    PullRequest,
    PullRequestClosedError,
    PullRequestNotFoundError,
    PushRejectedError,
    RefNotFoundError,
    StatusState,
)
from .workspace import Workspace, checkout_ref, clone_dir_for

__all__ = ["LocalForge"]

_STATE_DIR = "medic-forge"
_STATES = ("error", "failure", "pending", "success")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Store:
    """The metadata file's content."""

    next_number: int = 1
    pulls: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def pull(self, number: int) -> dict[str, Any]:
        for record in self.pulls:
            if record["number"] == number:
                return record
        raise PullRequestNotFoundError(f"no pull request #{number}")


class LocalForge:
    """The :class:`~medic_forge.Forge` of a local bare repository ``remote``.

    ``work_dir`` holds this forge's private clone (merges, reverts). ``lock_timeout_s`` bounds
    the wait for another process's merge; ``git_timeout_s`` bounds each git command.
    """

    name = "local"

    def __init__(
        self,
        remote: Path,
        work_dir: Path,
        *,
        git_timeout_s: float = 120.0,
        lock_timeout_s: float = 300.0,
        author_name: str = "Medic",
        author_email: str = "medic@localhost",
    ) -> None:
        self.remote = remote.resolve()
        self.work_dir = work_dir.resolve()
        self.git = Git(timeout_s=git_timeout_s, author_name=author_name, author_email=author_email)
        self.lock_timeout_s = lock_timeout_s
        self._state_dir = self.remote / _STATE_DIR
        self._workspace = Workspace(
            remote_url=str(self.remote), path=clone_dir_for(self.work_dir, str(self.remote)), git=self.git
        )

    # ---------------------------------------------------------------------------------------
    # storage

    def _check_remote(self) -> None:
        if not (self.remote / "HEAD").is_file() or not (self.remote / "objects").is_dir():
            raise ForgeError(f"{self.remote} is not a bare git repository")

    def _load(self) -> _Store:
        path = self._state_dir / "pulls.json"
        if not path.exists():
            return _Store()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ForgeError(f"{path}: unreadable pull request metadata: {exc}") from exc
        return _Store(
            next_number=int(data.get("next_number", 1)),
            pulls=list(data.get("pulls", [])),
            statuses=list(data.get("statuses", [])),
        )

    def _save(self, store: _Store) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {"version": 1, "next_number": store.next_number, "pulls": store.pulls, "statuses": store.statuses},
            indent=2,
            sort_keys=True,
        )
        # write-then-rename so readers (which take no lock) never see half a file
        fd, tmp = tempfile.mkstemp(dir=self._state_dir, prefix=".pulls.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._state_dir / "pulls.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _lock(self) -> Any:
        self._check_remote()
        return file_lock(self._state_dir / "lock", timeout_s=self.lock_timeout_s)

    # ---------------------------------------------------------------------------------------
    # helpers on the bare repository (read-only, no lock needed: git updates refs atomically)

    async def _remote_git(self, *args: str, check: bool = True) -> str:
        result = await self.git.run("--git-dir", str(self.remote), *args, check=check)
        return result.stdout.strip()

    async def _ref_sha(self, ref: str) -> str | None:
        result = await self.git.run(
            "--git-dir", str(self.remote), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False
        )
        return result.stdout.strip() or None

    async def _is_ancestor(self, older: str, newer: str) -> bool:
        result = await self.git.run("--git-dir", str(self.remote), "merge-base", "--is-ancestor", older, newer, check=False)
        return result.ok

    def _url(self, number: int) -> str:
        return f"{self.remote.as_uri()}#pull/{number}"

    def _to_pull(self, record: dict[str, Any]) -> PullRequest:
        return PullRequest(
            number=int(record["number"]),
            url=self._url(int(record["number"])),
            head=str(record["head"]),
            base=str(record["base"]),
            head_sha=str(record["head_sha"]),
            state=str(record["state"]),
            merge_sha=record.get("merge_sha"),
            title=str(record["title"]),
            labels=tuple(record.get("labels", ())),
            body=str(record.get("body", "")),
        )

    async def _refresh_head(self, record: dict[str, Any]) -> bool:
        """Follow the head branch of an open pull request (as GitHub does); True when it moved."""
        if record["state"] != "open":
            return False
        current = await self._ref_sha(f"refs/heads/{record['head']}")
        if current is None or current == record["head_sha"]:
            return False
        record["head_sha"] = current
        record["updated_at"] = _now()
        await self._remote_git("update-ref", f"refs/medic/pr/{record['number']}/head", current)
        return True

    @staticmethod
    def _pick(store: _Store, head: str, base: str) -> dict[str, Any] | None:
        same = [r for r in store.pulls if r["head"] == head and r["base"] == base]
        open_ = [r for r in same if r["state"] == "open"]
        if open_:
            return open_[-1]
        return same[-1] if same else None

    # ---------------------------------------------------------------------------------------
    # Forge

    async def push_branch(self, *, clone: Path, branch: str, force: bool = False) -> str:
        """Push ``branch`` from ``clone`` to the bare repository; a no-op when it is already there."""
        check_branch_name(branch)
        self._check_remote()
        result = await self.git.run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", cwd=clone, check=False)
        sha = result.stdout.strip()
        if not sha:
            raise RefNotFoundError(f"branch {branch} does not exist in {clone}")
        if await self._ref_sha(f"refs/heads/{branch}") == sha:
            return sha
        spec = f"{'+' if force else ''}{sha}:refs/heads/{branch}"
        push = await self.git.run(
            "-c", "core.hooksPath=/dev/null", "push", "--quiet", "--porcelain", str(self.remote), spec, cwd=clone, check=False
        )
        if not push.ok:
            if "rejected" in push.stderr or "non-fast-forward" in push.stderr or "[rejected]" in push.stdout:
                raise PushRejectedError(f"push of {branch} rejected: the remote branch has commits the clone lacks")
            raise ForgeError(f"push of {branch} failed: {push.stderr.strip() or push.stdout.strip()}")
        return sha

    async def find_pull_request(self, *, head: str, base: str) -> PullRequest | None:
        """The open pull request ``head`` → ``base``, else the latest closed or merged one, else None."""
        check_branch_name(head)
        check_branch_name(base)
        self._check_remote()
        record = self._pick(self._load(), head, base)
        if record is None:
            return None
        if record["state"] == "open":
            current = await self._ref_sha(f"refs/heads/{head}")
            if current is not None:
                record = {**record, "head_sha": current}
        return self._to_pull(record)

    async def open_pull_request(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()) -> PullRequest:
        """Find or create the pull request ``head`` → ``base``; missing labels are added."""
        check_branch_name(head)
        check_branch_name(base)
        async with self._lock():
            store = self._load()
            head_sha = await self._ref_sha(f"refs/heads/{head}")
            if head_sha is None:
                raise RefNotFoundError(f"branch {head} does not exist on the remote")
            base_sha = await self._ref_sha(f"refs/heads/{base}")
            if base_sha is None:
                raise RefNotFoundError(f"branch {base} does not exist on the remote")
            record = self._pick(store, head, base)
            if record is not None and (
                record["state"] == "open" or (record["state"] == "merged" and record["head_sha"] == head_sha)
            ):
                changed = await self._refresh_head(record)
                missing = [label for label in labels if label not in record["labels"]]
                if missing:
                    record["labels"] = [*record["labels"], *missing]
                if missing or changed:
                    self._save(store)
                return self._to_pull(record)
            if await self._is_ancestor(head_sha, base_sha):
                raise ForgeError(f"no commits between {base} and {head}: nothing to propose")
            number = store.next_number
            await self._remote_git("update-ref", f"refs/medic/pr/{number}/head", head_sha)
            record = {
                "number": number,
                "head": head,
                "base": base,
                "title": title,
                "body": body,
                "labels": list(dict.fromkeys(labels)),
                "state": "open",
                "head_sha": head_sha,
                "merge_sha": None,
                "created_at": _now(),
                "updated_at": _now(),
                "comments": [],
            }
            store.pulls.append(record)
            store.next_number = number + 1
            self._save(store)
            return self._to_pull(record)

    async def get_pull_request(self, *, number: int) -> PullRequest:
        """The pull request ``number`` (raises :class:`PullRequestNotFoundError`)."""
        self._check_remote()
        return self._to_pull(self._load().pull(number))

    async def list_pull_requests(self, *, state: Literal["open", "closed", "merged", "all"] = "open") -> list[PullRequest]:
        """Pull requests in ``state`` (``all`` for every one), oldest first."""
        self._check_remote()
        return [self._to_pull(r) for r in self._load().pulls if state == "all" or r["state"] == state]

    async def merge_pull_request(self, *, number: int, message: str) -> str:
        """Merge pull request ``number`` into its base with a ``--no-ff`` merge commit; return its sha."""
        async with self._lock():
            store = self._load()
            record = store.pull(number)
            if record["state"] == "merged":
                return str(record["merge_sha"])
            if record["state"] != "open":
                raise PullRequestClosedError(f"pull request #{number} is closed")
            await self._refresh_head(record)
            head_sha = str(record["head_sha"])
            await self._workspace.prepare()
            base_sha = await self._workspace.head_of(record["base"])
            if base_sha is None:
                raise RefNotFoundError(f"branch {record['base']} does not exist on the remote")
            # a merge pushed by a caller that crashed before recording it: adopt it, do not merge twice
            merge_sha = None
            if await self._workspace.is_ancestor(head_sha, base_sha):
                merge_sha = await self._workspace.merge_commit_of(head_sha, base_sha) or base_sha
            else:
                merge_sha = await self._workspace.merge(source_sha=head_sha, target=record["base"], message=message)
            record.update(state="merged", merge_sha=merge_sha, updated_at=_now(), merged_at=_now())
            self._save(store)
            return merge_sha

    async def close_pull_request(self, *, number: int) -> PullRequest:
        """Close an open pull request without merging (a no-op when it is already closed or merged)."""
        async with self._lock():
            store = self._load()
            record = store.pull(number)
            if record["state"] == "open":
                record.update(state="closed", updated_at=_now())
                self._save(store)
            return self._to_pull(record)

    async def add_comment(self, *, number: int, body: str) -> None:
        """Append a comment to pull request ``number``."""
        async with self._lock():
            store = self._load()
            store.pull(number).setdefault("comments", []).append({"body": body, "created_at": _now()})
            self._save(store)

    async def comments(self, *, number: int) -> list[str]:
        """The comment bodies of pull request ``number``, oldest first."""
        self._check_remote()
        return [c["body"] for c in self._load().pull(number).get("comments", [])]

    async def set_commit_status(
        self, *, sha: str, state: StatusState, context: str, description: str = "", target_url: str | None = None
    ) -> CommitStatus:
        """Record a commit status (like a CI check) on ``sha``."""
        if state not in _STATES:
            raise ValueError(f"status state must be one of {', '.join(_STATES)}")
        full = check_sha(sha)
        async with self._lock():
            resolved = await self._ref_sha(full)
            if resolved is None:
                raise RefNotFoundError(f"commit {sha} does not exist on the remote")
            store = self._load()
            record = {"sha": resolved, "state": state, "context": context, "description": description, "target_url": target_url}
            store.statuses.append({**record, "created_at": _now()})
            self._save(store)
        return CommitStatus(sha=resolved, state=state, context=context, description=description, target_url=target_url)

    async def commit_statuses(self, *, sha: str) -> list[CommitStatus]:
        """The latest status per context on ``sha``."""
        self._check_remote()
        resolved = await self._ref_sha(check_sha(sha))
        latest: dict[str, dict[str, Any]] = {}
        for record in self._load().statuses:
            if record["sha"] == resolved:
                latest[record["context"]] = record
        return [
            CommitStatus(
                sha=r["sha"], state=r["state"], context=r["context"], description=r["description"], target_url=r["target_url"]
            )
            for r in latest.values()
        ]

    async def merge_branch(self, *, source: str, target: str, message: str) -> str:
        """Merge ``source`` into ``target`` (``--no-ff``); when nothing is new, return ``target``'s head."""
        check_branch_name(source)
        check_branch_name(target)
        async with self._lock():
            await self._workspace.prepare()
            source_sha = await self._workspace.head_of(source)
            if source_sha is None:
                raise RefNotFoundError(f"branch {source} does not exist on the remote")
            target_sha = await self._workspace.head_of(target)
            if target_sha is None:
                raise RefNotFoundError(f"branch {target} does not exist on the remote")
            if await self._workspace.is_ancestor(source_sha, target_sha):
                return target_sha
            return await self._workspace.merge(source_sha=source_sha, target=target, message=message)

    async def revert_commit(self, *, branch: str, sha: str, message: str) -> str:
        """Revert ``sha`` on ``branch`` (a merge commit against its first parent); an existing revert is returned."""
        return await self._workspace.revert_under(self._lock, branch=branch, sha=sha, message=message)

    async def branch_head(self, *, branch: str) -> str | None:
        """The sha of ``branch`` in the bare repository, or None."""
        check_branch_name(branch)
        self._check_remote()
        return await self._ref_sha(f"refs/heads/{branch}")

    async def fetch_ref(self, *, ref: str, into: Path) -> Path:
        """A clean detached checkout of ``ref`` (branch, tag or sha) in ``into``."""
        self._check_remote()
        return await checkout_ref(git=self.git, remote_url=str(self.remote), ref=ref, into=into)
