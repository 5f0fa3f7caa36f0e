"""The target's checkout, read for one thing: which deployed frame paths are repository files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from medic_contracts import TargetConfig
from medic_stacktrace import is_library_path

from ..domain.observed import ObservedEvent
from ..domain.paths import to_repo_path

__all__ = ["FrameResolver"]


class FrameResolver:
    """Maps frames' deployed paths to repository-relative paths of a target (where the file exists)."""

    def __init__(self, target: TargetConfig) -> None:
        self.target = target
        repo = target.repo_path()
        self._repo = repo if repo.is_dir() else None
        self._cache: dict[str, str] = {}

    def _exists(self, relative: str) -> bool:
        assert self._repo is not None
        if ".." in Path(relative).parts:
            return False
        return (self._repo / relative).is_file()

    def path(self, file: str) -> str:
        """The repository path of a deployed path (unchanged when it cannot be resolved)."""
        cached = self._cache.get(file)
        if cached is None:
            cached = to_repo_path(
                file,
                prefixes=self.target.path_prefixes,
                source_roots=self.target.source_roots,
                exists=self._exists if self._repo is not None else None,
            )
            if len(self._cache) < 10_000:
                self._cache[file] = cached
        return cached

    def event(self, event: ObservedEvent) -> ObservedEvent:
        """The event with repository paths in its frames; a frame found in the repo counts as in-app."""
        if not event.frames:
            return event
        frames = []
        for frame in event.frames:
            resolved = self.path(frame.file)
            in_repo = self._repo is not None and resolved != frame.file and self._exists(resolved)
            in_app = frame.in_app or (in_repo and not is_library_path(resolved))
            frames.append(frame.model_copy(update={"file": resolved, "in_app": in_app}))
        return dataclasses.replace(event, frames=tuple(frames))
