"""Candidates step, reverts: undoing the suspect commit, from a removed guard put back to the whole commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from medic_contracts import FixStrategy

from ..adapters.workspace import Workspace
from ..domain.commit_message import one_line
from ..domain.hunks import Hunk, defines_function, hunks_patch, is_entry_point, overlapping, parse_hunks, removed_guard
from .context import FixJob

__all__ = ["RevertCandidate", "revert_candidates"]

#: A revert not yet made: its strategy, its description, and what applies it (returning the files it changed).
RevertCandidate = tuple[FixStrategy, str, Callable[[], Awaitable[tuple[str, ...]]]]


async def revert_candidates(job: FixJob, ws: Workspace) -> list[RevertCandidate]:
    """The ways to undo the suspect commit (when it is an ancestor of the base), finest first, each not yet applied."""
    suspect = job.diagnosis.suspect_commit
    if suspect is None:
        return []
    sha = await ws.git.rev_parse(suspect.sha)
    if sha is None or (await ws.git.run("merge-base", "--is-ancestor", sha, ws.base_sha, check=False)).returncode != 0:
        return []
    parents = (await ws.git.out("rev-list", "--parents", "-n", "1", sha)).split()[1:]
    mainline = ["-m", "1"] if len(parents) > 1 else []

    async def full() -> tuple[str, ...]:
        done = await ws.git.run("revert", "--no-commit", "--no-edit", *mainline, sha, check=False)
        if done.returncode != 0:
            await ws.git.run("revert", "--abort", check=False)
            return ()
        return tuple(dict.fromkeys(p for entry in await ws.git.changes(ws.base_sha) for p in entry.paths))

    async def partial() -> tuple[str, ...]:
        affected = job.diagnosis.affected_file
        if not affected or not parents:
            return ()
        patch = (await ws.git.run("diff", "--no-color", "--binary", parents[0], sha, "--", affected)).stdout
        if not patch.strip():
            return ()
        applied = await ws.git.run("apply", "--reverse", "--3way", "-", input_text=patch, check=False)
        return (affected,) if applied.returncode == 0 else ()

    affected = job.diagnosis.affected_file
    rng = job.diagnosis.affected_lines

    async def zero_context() -> tuple[list[str], list[Hunk]] | None:
        if not affected or not parents or rng is None:
            return None
        # Only when the file is as the suspect commit left it: hunk positions must still be true.
        if (await ws.git.run("diff", "--quiet", sha, ws.base_sha, "--", affected, check=False)).returncode != 0:
            return None
        patch = (await ws.git.run("diff", "--no-color", "-U0", parents[0], sha, "--", affected)).stdout
        return parse_hunks(patch) if patch.strip() else None

    async def restore_guard() -> tuple[str, ...]:
        parsed = await zero_context()
        if parsed is None or rng is None or affected is None:
            return ()
        _header, hunks = parsed
        for hunk in overlapping(hunks, rng.first, rng.last):
            block = removed_guard(hunk)
            if block is None:
                continue
            path = ws.path / affected
            lines = path.read_text().splitlines(keepends=True)
            at = hunk.new_start - 1 if hunk.new_len > 0 else hunk.new_start
            lines[at:at] = [line + "\n" for line in block]
            path.write_text("".join(lines))
            return (affected,)
        return ()

    async def revert_hunks() -> tuple[str, ...]:
        parsed = await zero_context()
        if parsed is None or rng is None or affected is None:
            return ()
        header, hunks = parsed
        chosen = overlapping(hunks, rng.first, rng.last)
        if not chosen or len(chosen) == len(hunks):
            return ()  # nothing to choose, or the same as reverting the file
        patch = hunks_patch(header, chosen)
        applied = await ws.git.run("apply", "--reverse", "--unidiff-zero", "-", input_text=patch, check=False)
        return (affected,) if applied.returncode == 0 else ()

    # Finest first: a removed guard put back, the hunks at the fault, the file, the whole commit.
    options: list[RevertCandidate] = []
    if affected:
        options += [
            (FixStrategy.PARTIAL_REVERT, f"restore the guard {sha[:12]} removed in {affected}", restore_guard),
            (FixStrategy.PARTIAL_REVERT, f"revert the hunks of {sha[:12]} at the fault in {affected}", revert_hunks),
            (FixStrategy.PARTIAL_REVERT, f"revert {sha[:12]} in {affected} only", partial),
        ]
    options.append((FixStrategy.REVERT_COMMIT, f"revert {sha[:12]} ({one_line(suspect.message, limit=80)})", full))
    return [(strategy, description, _keeping_function(job, ws, apply)) for strategy, description, apply in options]


def _keeping_function(
    job: FixJob, ws: Workspace, apply: Callable[[], Awaitable[tuple[str, ...]]]
) -> Callable[[], Awaitable[tuple[str, ...]]]:
    """``apply``, made no candidate when the revert deletes the entry point that failed (the route handler or job
    the commit added): that drops the feature, not the fault (the request would then answer 404 for a route that no
    longer exists). A helper deleted along with its callers' use of it is a revert like any other."""
    affected, function = job.diagnosis.affected_file, job.diagnosis.affected_function
    python = bool(affected and affected.endswith(".py"))
    path = ws.path / affected if affected else None

    async def applied() -> tuple[str, ...]:
        before = path.read_text(errors="replace") if path is not None and path.is_file() else ""
        files = await apply()
        if not files or path is None or not function or affected not in files:
            return files
        if not function.rsplit(".", 1)[-1].isidentifier() or not is_entry_point(before, function, python=python):
            return files
        after = path.read_text(errors="replace") if path.is_file() else ""
        return files if defines_function(after, function, python=python) else ()

    return applied
