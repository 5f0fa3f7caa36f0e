"""Shared helpers for watcher tests: the shared data directory and a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from medic_contracts import TargetConfig


def shared_data() -> Path:
    """../shared/data from the worktree (the repository's sibling), or /work/shared/data."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/data")


@pytest.fixture
def target(tmp_path: Path) -> TargetConfig:
    return TargetConfig(name="shop", repo=str(tmp_path / "repo"), language="typescript", test_command="npm test")
