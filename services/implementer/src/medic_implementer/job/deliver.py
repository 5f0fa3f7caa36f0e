"""Deliver step: the chosen diff committed (guarded one last time, signed, with ``Medic-*`` trailers), the fix
branch pushed (retried) and its pull request into staging found or opened."""

from __future__ import annotations

import asyncio

from ..adapters.forge import FORGE_ERRORS, Forge, ForgeError, push
from ..adapters.git import Git, GitError
from ..adapters.workspace import Workspace
from ..domain.candidates import diff_changes, diff_hash
from ..domain.commit_message import commit_message
from ..domain.guard import PathGuard
from ..domain.outcome import ChosenFix, FixOutcome, OutcomeKind
from .context import FixJob
from .validate import final_guard

__all__ = ["commit_fix", "deliver"]


async def commit_fix(job: FixJob, ws: Workspace, guard: PathGuard, fix: ChosenFix) -> str | FixOutcome:
    """The commit made of ``fix`` on a clean worktree; a REFUSED outcome when the staged diff breaks the guard."""
    await ws.reset()
    await ws.apply(fix.diff)
    # The last word: exactly what is about to be committed, read from the index (renames, modes, links).
    violations = await final_guard(job, ws, guard, "final diff")
    if violations:
        await ws.reset()
        return job.outcome(
            OutcomeKind.REFUSED,
            tuple(f"{v.path}: {v.reason}" for v in violations),
            base_sha=ws.base_sha,
            diff=fix.diff,
            diff_hash=diff_hash(fix.diff),
        )
    message = commit_message(
        diagnosis=job.diagnosis,
        summary=f"{fix.description.split(':', maxsplit=1)[0]} in {job.diagnosis.affected_file or 'the code'}",
        fix_description=fix.description,
        changes=diff_changes(fix.diff),
        tests=fix.tests,
        regression_test=fix.regression_test,
        diff_hash=diff_hash(fix.diff),
        strategy=fix.strategy.value,
        attempt=job.attempt,
    )
    signer = job.options.signer
    sign = ["-S"] if signer.key is not None else []
    env_config = {**signer.sign_config(), "user.email": signer.committer_email, "user.name": "Medic"}
    await ws.git.run("commit", "--quiet", "--no-verify", *sign, "-F", "-", input_text=message, config=env_config)
    return await ws.git.out("rev-parse", "HEAD")


async def deliver(job: FixJob, git: Git, forge: Forge | None, *, title: str, body: str) -> tuple[str | None, int | None]:
    """Push the fix branch and find-or-open its pull request: (url, number), or (None, None) without a forge.

    Push failures retry with backoff without advancing; the job's side-effect check runs before each side effect.
    """
    if forge is None:
        return None, None
    job.before_side_effect("git.push")
    last: Exception | None = None
    retryable: tuple[type[Exception], ...] = (*FORGE_ERRORS, GitError, OSError)
    for attempt in range(job.options.push_attempts):
        try:
            await push(forge, clone=git.cwd, branch=job.branch)
            break
        except retryable as exc:
            last = exc
            await asyncio.sleep(job.options.push_backoff_s * (2**attempt))
    else:
        raise ForgeError(f"push of {job.branch} failed after {job.options.push_attempts} attempts: {last}")
    job.before_side_effect("forge.pull_request")
    pr = await forge.open_pull_request(
        head=job.branch, base=job.target.staging_branch, title=title, body=body, labels=job.options.labels
    )
    return getattr(pr, "url", None), getattr(pr, "number", None)
