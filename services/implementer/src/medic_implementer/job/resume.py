"""Resume step: a commit this event already made (redelivery, a crash after the commit or the push) is found by
its ``Medic-Event`` trailer, locally or on the forge, and only re-delivered — one commit, one pull request."""

from __future__ import annotations

from ..adapters.forge import FORGE_ERRORS, Forge
from ..adapters.git import Git
from ..adapters.workspace import release_branch
from ..domain.candidates import diff_changes, diff_hash
from ..domain.commit_message import TRAILER_EVENT, read_commit_message
from ..domain.outcome import FixOutcome, OutcomeKind
from ..domain.pull_request import pr_body, pr_title, risk
from .context import FixJob
from .deliver import deliver

__all__ = ["find_own_commit", "resume"]


async def find_own_commit(git: Git, forge: Forge | None, *, branch: str, event_id: str) -> str | None:
    """The commit on the fix branch (local or forge) whose Medic-Event trailer is ``event_id``."""
    refs = [f"refs/heads/{branch}"]
    if forge is not None:
        try:
            remote_head = await forge.branch_head(branch=branch)
        except FORGE_ERRORS:
            remote_head = None
        if remote_head and await git.rev_parse(remote_head) is None:
            await git.run("fetch", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}", check=False)
        if remote_head and await git.rev_parse(remote_head):
            refs.append(remote_head)
    for ref in refs:
        if await git.rev_parse(ref) is None:
            continue
        log_out = await git.run(
            "log",
            "--max-count=50",
            f"--format=%H%x00%(trailers:key={TRAILER_EVENT},valueonly,separator=%x2C)%x1e",
            ref,
            check=False,
        )
        for record in log_out.stdout.split("\x1e"):
            sha, _, value = record.strip().partition("\0")
            if sha and event_id in [v.strip() for v in value.split(",")]:
                return sha
    return None


async def resume(job: FixJob, git: Git, forge: Forge | None, sha: str) -> FixOutcome:
    """Re-deliver the fix commit ``sha`` made earlier for this event: push it again, find or open its pull request."""
    parents = (await git.out("rev-list", "--parents", "-n", "1", sha)).split()
    base = parents[1] if len(parents) > 1 else sha
    diff = (await git.run("diff", "--no-color", "--no-ext-diff", "--binary", base, sha)).stdout
    fix = read_commit_message(await git.out("log", "-1", "--format=%B", sha), test_command=job.target.test_command)
    # A crash after the commit can leave its worktree behind with the branch checked out: remove it first.
    await release_branch(repo=git.cwd, root=job.options.workspace_root, branch=job.branch)
    if await git.rev_parse(f"refs/heads/{job.branch}") != sha:
        await git.run("branch", "--quiet", "-f", job.branch, sha)  # the local branch may be missing after a crash
    body = pr_body(
        job.diagnosis,
        description=fix.description,
        diff=diff,
        tests=fix.tests,
        regression_test=fix.regression_test,
        risk=risk(diff, True, fix.strategy),
    )
    pr_url, pr_number = await deliver(job, git, forge, title=pr_title(job.diagnosis), body=body)
    return job.outcome(
        OutcomeKind.COMMITTED,
        ("resumed: this event's commit already exists",),
        base_sha=base,
        commit_sha=sha,
        files_changed=tuple(c.path for c in diff_changes(diff)),
        diff=diff,
        diff_hash=diff_hash(diff),
        strategy=fix.strategy,
        description=fix.description,
        regression_test=fix.regression_test,
        tests=fix.tests,
        pr_url=pr_url,
        pr_number=pr_number,
        signature=await job.options.signer.verify(git, sha),
        resumed=True,
    )
