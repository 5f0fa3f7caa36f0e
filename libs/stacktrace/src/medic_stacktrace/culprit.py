"""Pick the culprit frame: the deepest application frame that names a file of the repository.

:func:`find_culprit` searches a parsed exception chain, trusting the SDK's ``in_app`` first;
:func:`repo_frames` ranks a flat frame list by the repository alone (an SDK's ``in_app`` is only a
hint: GlitchTip's Django samples mark Django's own frames in-app), innermost first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from medic_contracts import StackFrame

from .inapp import is_library_path
from .model import ChainRelation, ParsedException, ParsedTrace
from .paths import RepoPathResolver

__all__ = ["SOURCE_EXTENSIONS", "Culprit", "RepoFrame", "find_culprit", "repo_frame_path", "repo_frames"]

#: Files a culprit can be in (compiled output without a map resolves to its source by name).
SOURCE_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".py")


@dataclass(frozen=True)
class Culprit:
    """Where to look first: the frame, the repository file it maps to, and its exception."""

    frame: StackFrame
    repo_path: str | None
    exception: ParsedException
    frame_index: int

    @property
    def line(self) -> int | None:
        """The 1-based line of the culprit frame, when known."""
        return self.frame.line

    @property
    def compiled(self) -> bool:
        """True when the frame is compiled output mapped to its source by name only (``route.js`` →
        ``route.ts``): its line and column are the compiled file's, so apply source maps first."""
        if self.repo_path is None:
            return False
        reported = PurePosixPath(self.frame.file.split("?")[0].replace("\\", "/")).suffix
        return reported != PurePosixPath(self.repo_path).suffix


def _search_order(trace: ParsedTrace) -> list[ParsedException]:
    """Where the failure started first: the main exception's explicit causes (oldest first), then
    the main exception, then everything else from newest to oldest.

    An explicit cause (``raise ... from``, ``Error.cause``) is where the wrapped failure happened;
    an implicit context ("During handling ...") is usually an exception that was being handled
    normally, so it comes after the main exception.
    """
    main = trace.main
    if main is None:
        return list(reversed(trace.exceptions))
    causes: list[ParsedException] = []
    current = main
    while True:
        cause = next(
            (
                e
                for e in trace.exceptions
                if e.parent_id == current.exception_id and e.relation is ChainRelation.CAUSE and e not in causes
            ),
            None,
        )
        if cause is None:
            break
        causes.append(cause)
        current = cause
    first = [*reversed(causes), main]
    return first + [e for e in reversed(trace.exceptions) if all(e is not f for f in first)]


def find_culprit(trace: ParsedTrace, resolver: RepoPathResolver | None = None) -> Culprit | None:
    """The deepest in-app frame that the repository holds, searched in the order of :func:`_search_order`.

    Without a resolver any in-app frame qualifies (``repo_path`` is then None). When no frame is
    marked in-app (an SDK configured to mark nothing), the deepest frame that resolves to a
    repository file and is not library code is taken instead. None when nothing qualifies.
    """
    order = _search_order(trace)
    for exception in order:
        for index in range(len(exception.frames) - 1, -1, -1):
            frame = exception.frames[index]
            if not frame.in_app:
                continue
            if resolver is None:
                return Culprit(frame=frame, repo_path=None, exception=exception, frame_index=index)
            repo_path = resolver.resolve(frame.file)
            if repo_path is not None:
                return Culprit(frame=frame, repo_path=repo_path, exception=exception, frame_index=index)
    if resolver is None:
        return None
    for exception in order:
        for index in range(len(exception.frames) - 1, -1, -1):
            frame = exception.frames[index]
            if is_library_path(frame.file):
                continue
            repo_path = resolver.resolve(frame.file)
            if repo_path is not None:
                return Culprit(frame=frame, repo_path=repo_path, exception=exception, frame_index=index)
    return None


@dataclass(frozen=True, slots=True)
class RepoFrame:
    """A frame mapped onto a repository file, with its depth (0 = innermost)."""

    file: str  # repository-relative, from the resolver's files
    line: int
    column: int | None
    function: str | None
    frame: StackFrame
    depth: int


def repo_frame_path(frame: StackFrame, resolver: RepoPathResolver) -> str | None:
    """The repository source file ``frame`` runs, or None for library code and files the repository lacks.

    The reported path decides; a Python frame whose path does not resolve (a zipapp, a relocated
    install) falls back to its module name (``app.views`` → ``app/views.py``).
    """
    if not frame.file or is_library_path(frame.file):
        return None
    found = resolver.resolve(frame.file)
    if found is None and frame.module:
        found = resolver.resolve(frame.module.replace(".", "/") + ".py")
    return found if found is not None and found.endswith(SOURCE_EXTENSIONS) else None


def repo_frames(frames: Sequence[StackFrame], resolver: RepoPathResolver, *, limit: int = 5) -> list[RepoFrame]:
    """The frames that run the repository's own files, innermost first: the first is the culprit.

    Frames without a line are skipped; at most ``limit`` are returned.
    """
    out: list[RepoFrame] = []
    for depth, frame in enumerate(reversed(frames)):
        if frame.line is None or frame.line < 1:
            continue
        path = repo_frame_path(frame, resolver)
        if path is None:
            continue
        out.append(RepoFrame(path, frame.line, frame.column, frame.function, frame, depth))
        if len(out) >= limit:
            break
    return out
