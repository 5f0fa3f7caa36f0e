"""Candidates step, renames: the missed caller of a renamed function moved to the new name.

The diagnosis' suspect commit carries the rename the history search found (``name_change``). The update is
made only when the new name is defined, in the workspace, in the tracked file the commit renamed it in, and it
touches only the affected file; it is validated like every other candidate (tests, reproduction, gate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from medic_contracts import FixStrategy

from ..adapters.workspace import Workspace
from ..domain.renames import caller_update, defines, is_identifier
from .context import FixJob

__all__ = ["caller_update_candidate"]


async def caller_update_candidate(
    job: FixJob, ws: Workspace, sha: str
) -> tuple[FixStrategy, str, Callable[[], Awaitable[tuple[str, ...]]]] | None:
    """The caller update for the rename ``sha`` made, not yet applied; None when the diagnosis names no clean rename."""
    suspect = job.diagnosis.suspect_commit
    change = suspect.name_change if suspect is not None else None
    affected = job.diagnosis.affected_file
    if change is None or change.new_name is None or not affected:
        return None
    old, new = change.name, change.new_name
    if not (is_identifier(old) and is_identifier(new)):
        return None
    tracked = set(await ws.tracked_files())
    if change.file not in tracked or affected not in tracked:
        return None  # only files git tracks: a name from the event never picks an arbitrary path
    definition, caller = ws.path / change.file, ws.path / affected
    if definition.is_symlink() or caller.is_symlink() or not definition.is_file() or not caller.is_file():
        return None

    async def apply() -> tuple[str, ...]:
        if not defines(definition.read_text(errors="replace"), new):
            return ()  # the new name is not (or no longer) defined where the commit put it
        update = caller_update(caller.read_text(), path=affected, old=old, new=new, owner=change.owner)
        if update is None:
            return ()
        caller.write_text(update.text)
        return (affected,)

    description = f"update the caller in {affected} from `{old}` to `{new}` (renamed in {change.file} by {sha[:12]})"
    return FixStrategy.PARTIAL_REVERT, description, apply
