"""The unfixed tree, for a moment: the files a candidate changed put back to the base commit, then restored.

The static checks and the behaviour replay compare the candidate with the unfixed code. Their runs on the
unfixed code happen while the candidate is in the worktree (the first candidate that needs them), so the
changed files are swapped back to their base contents for those runs and the candidate's are written again
afterwards, whatever happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from ..adapters.workspace import Workspace
from ..domain.guard import PathGuard

__all__ = ["unfixed_tree"]


@asynccontextmanager
async def unfixed_tree(ws: Workspace, guard: PathGuard, files: Sequence[str]) -> AsyncIterator[None]:
    """Inside the block the worktree holds the base commit's version of ``files`` (absent where the base had none)."""
    saved: dict[str, bytes | None] = {}
    for name in dict.fromkeys(files):
        path = guard.resolve(name)  # the guard already allowed these paths; resolving again keeps writes inside
        if path.is_symlink():
            continue  # never written through (the final guard refuses links a fix would add)
        saved[name] = path.read_bytes() if path.is_file() else None
    try:
        for name in saved:
            path = guard.resolve(name)
            shown = await ws.git.run("show", f"{ws.base_sha}:{name}", check=False)
            if shown.returncode == 0:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(shown.stdout)
            else:
                path.unlink(missing_ok=True)
        yield
    finally:
        for name, content in saved.items():
            path = guard.resolve(name)
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
