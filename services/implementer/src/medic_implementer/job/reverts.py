"""Candidates step, reverts: undoing the suspect commit, from a removed guard put back to the whole commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from medic_contracts import FixStrategy, LineRange

from ..adapters.workspace import Workspace
from ..domain.commit_message import one_line
from ..domain.hunks import Hunk, defines_function, hunks_patch, is_entry_point, overlapping, parse_hunks, removed_guard
from ..domain.origin_revert import restore_function
from .context import FixJob
from .renames import caller_update_candidate

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

    async def partial(affected: str | None = job.diagnosis.affected_file) -> tuple[str, ...]:
        if not affected or not parents:
            return ()
        patch = (await ws.git.run("diff", "--no-color", "--binary", parents[0], sha, "--", affected)).stdout
        if not patch.strip():
            return ()
        applied = await ws.git.run("apply", "--reverse", "--3way", "-", input_text=patch, check=False)
        return (affected,) if applied.returncode == 0 else ()

    affected = job.diagnosis.affected_file
    rng = job.diagnosis.affected_lines

    async def zero_context(affected: str | None = affected, rng: LineRange | None = rng) -> tuple[list[str], list[Hunk]] | None:
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

    async def revert_hunks(affected: str | None = affected, rng: LineRange | None = rng) -> tuple[str, ...]:
        parsed = await zero_context(affected, rng)
        if parsed is None or rng is None or affected is None:
            return ()
        header, hunks = parsed
        chosen = overlapping(hunks, rng.first, rng.last)
        if not chosen or len(chosen) == len(hunks):
            return ()  # nothing to choose, or the same as reverting the file
        patch = hunks_patch(header, chosen)
        applied = await ws.git.run("apply", "--reverse", "--unidiff-zero", "-", input_text=patch, check=False)
        return (affected,) if applied.returncode == 0 else ()

    # Finest first: a missed caller moved to the name the commit gave, a removed guard put back, the hunks at the
    # fault, the file, the whole commit.
    options: list[RevertCandidate] = []
    rename = await caller_update_candidate(job, ws, sha)
    if rename is not None:
        options.append(rename)
    origin = job.diagnosis.origin
    if origin is not None and origin.file != affected and (origin.commit is None or sha.startswith(origin.commit)):
        # The bad value came from a callee the commit changed: undo that change where it was made.
        at = origin.file

        async def origin_function() -> tuple[str, ...]:
            name = origin.function or ""
            if not parents or not name or at not in await ws.tracked_files():
                return ()
            shown = await ws.git.run("show", f"{parents[0]}:{at}", check=False)
            path = ws.path / at
            if shown.returncode != 0 or path.is_symlink() or not path.is_file():
                return ()
            restored = restore_function(path.read_text(), shown.stdout, name.rsplit(".", 1)[-1], path=at)
            if restored is None:
                return ()
            path.write_text(restored)
            return (at,)

        async def origin_hunks() -> tuple[str, ...]:
            return await revert_hunks(at, origin.lines)

        async def origin_file() -> tuple[str, ...]:
            return await partial(at)

        options += [
            (FixStrategy.PARTIAL_REVERT, f"restore `{origin.function}` in {at} as it was before {sha[:12]}", origin_function),
            (FixStrategy.PARTIAL_REVERT, f"revert the hunks of {sha[:12]} at the origin in {at}", origin_hunks),
            (FixStrategy.PARTIAL_REVERT, f"revert {sha[:12]} in {at} only (the origin)", origin_file),
        ]
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
