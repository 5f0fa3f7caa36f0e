"""Pick the culprit frame: the deepest application frame that names a file of the repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from medic_contracts import StackFrame

from .inapp import is_library_path
from .model import ChainRelation, ParsedException, ParsedTrace
from .paths import RepoPathResolver

__all__ = ["Culprit", "find_culprit"]


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
