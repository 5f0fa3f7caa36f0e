"""Step 1, the frames: the issue's own, or medic_stacktrace's parse of its raw trace; compiled
JavaScript frames are moved to their original (TypeScript) lines through the build's source maps."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from medic_contracts import IssueDetected, StackFrame
from medic_stacktrace import RepoPathResolver, SourceMapper, parse_trace

from ..adapters.repo import Repository

__all__ = ["issue_frames", "source_mapped"]

log = logging.getLogger("medic.investigator")

_COMPILED = (".js", ".mjs", ".cjs")


def issue_frames(issue: IssueDetected) -> tuple[StackFrame, ...]:
    """The issue's frames, innermost last; parsed from ``raw_trace`` (any format medic_stacktrace reads) when it has none."""
    if issue.frames or not issue.raw_trace:
        return issue.frames
    exc = issue.exception
    return parse_trace(issue.raw_trace, error_type=exc.type if exc else None, error_value=exc.value if exc else None).frames


def source_mapped(
    frames: tuple[StackFrame, ...],
    *,
    repo: Repository,
    resolver: RepoPathResolver,
    prefixes: Mapping[str, str],
    build_roots: Sequence[Path] = (),
) -> tuple[StackFrame, ...]:
    """Frames in compiled JavaScript moved to the repository source they came from (source map, else by name).

    Maps are read from the checkout, then from ``build_roots`` (where the deployed builds are, with their maps).
    """
    mappers = repo.source_mappers(prefixes, build_roots)
    out = tuple(_original(frame, mappers, resolver) for frame in frames)
    for mapper in mappers:
        for error in mapper.errors:
            log.info("unreadable source map: %s", error)
    return out


def _original(frame: StackFrame, mappers: Sequence[SourceMapper], resolver: RepoPathResolver) -> StackFrame:
    reported = frame.file.split("?")[0]
    if frame.line is None or not reported.endswith(_COMPILED):
        return frame
    for mapper in mappers:
        mapped = mapper.map_frame(frame)
        if mapped is not frame:
            source = resolver.resolve(mapped.file)
            if source is not None:
                return frame.model_copy(update={"file": source, "line": mapped.line, "column": mapped.column})
    path = resolver.resolve(frame.file)
    if path is not None and PurePosixPath(path).suffix != PurePosixPath(reported).suffix:
        return frame.model_copy(update={"file": path})  # build output without a map: its source, by name
    return frame
