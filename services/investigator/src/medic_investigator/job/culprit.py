"""Step 2, the culprit: the repository's frames (medic_stacktrace), innermost first, read as code contexts."""

from __future__ import annotations

import logging

from medic_stacktrace import RepoFrame

from ..adapters.repo import Repository
from ..domain.callees import code_context
from ..domain.code import CodeContext

__all__ = ["read_contexts"]

log = logging.getLogger("medic.investigator")


def read_contexts(repo: Repository, candidates: list[RepoFrame], *, limit: int = 3) -> list[CodeContext]:
    """The code contexts of the first ``limit`` candidates that can be read (the culprit first)."""
    contexts: list[CodeContext] = []
    for candidate in candidates[:limit]:
        ctx = _read_context(repo, candidate)
        if ctx is not None:
            contexts.append(ctx)
    return contexts


def _read_context(repo: Repository, candidate: RepoFrame) -> CodeContext | None:
    try:
        source = repo.read_text(candidate.file)
    except (OSError, ValueError) as exc:
        log.info("cannot read %s: %s", candidate.file, exc)
        return None
    if candidate.line > len(source.splitlines()):
        log.info("frame line %d is past the end of %s (stale deploy?)", candidate.line, candidate.file)
        return None
    return code_context(source, file=candidate.file, line=candidate.line)
