"""Deployed paths to repository paths: the cleaning is medic_stacktrace's, the lookup in the checkout is the caller's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from medic_stacktrace import normalize_deployed_path

__all__ = ["to_repo_path"]


def to_repo_path(
    path: str,
    *,
    prefixes: Mapping[str, str] | None = None,
    source_roots: Sequence[str] = (),
    exists: Callable[[str], bool] | None = None,
) -> str:
    """Map a deployed path to a repository-relative one where it can be resolved.

    The path is cleaned by :func:`medic_stacktrace.normalize_deployed_path` (configured prefixes
    first, then URL schemes, bundler namespaces and the usual deploy roots); with ``exists``, the
    longest suffix of it that exists in the repository (at the top, then under a source root) is
    taken; otherwise the cleaned path comes back.
    """
    cleaned = normalize_deployed_path(path, prefixes)
    if exists is None:
        return cleaned
    parts = [p for p in cleaned.split("/") if p and p != "."]
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if exists(candidate):
            return candidate
    for root in source_roots:
        if root in (".", ""):
            continue
        for start in range(len(parts)):
            candidate = f"{root.rstrip('/')}/" + "/".join(parts[start:])
            if exists(candidate):
                return candidate
    return cleaned
