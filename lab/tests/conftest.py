"""Shared helpers for lab tests: the shared data directory."""

from __future__ import annotations

from pathlib import Path


def shared_data() -> Path:
    """../shared/data from the worktree (the repository's sibling), or /work/shared/data."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/data")
