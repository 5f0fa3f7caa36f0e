"""Deployed paths to repository paths, and which frames are the application's own code."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

__all__ = ["guess_in_app", "strip_location", "to_repo_path"]

_LIBRARY_MARKERS = (
    "site-packages/",
    "dist-packages/",
    "node_modules/",
    "/lib/python",
    "<frozen ",
    "<frozen>",
    "node:internal",
    "internal/",
    "webpack/bootstrap",
    "/usr/lib/",
    "/usr/local/lib/",
    "[native code]",
    "<anonymous>",
    "/vendor/",
)
_BUNDLER_PREFIX = re.compile(r"^(?:webpack-internal:///|webpack://[^/]*/|app:///|file://|turbopack://\[project\]/)")


def guess_in_app(path: str) -> bool:
    """True unless the path is a library, the runtime or generated code (used when the SDK did not say)."""
    return not any(marker in path for marker in _LIBRARY_MARKERS)


def strip_location(path: str) -> str:
    """A path without URL scheme, host, query and bundler prefixes (``webpack://app/./src/x.ts`` -> ``src/x.ts``)."""
    if "://" in path and not _BUNDLER_PREFIX.match(path):
        path = urlsplit(path).path or path
    path = _BUNDLER_PREFIX.sub("", path)
    path = path.split("?", 1)[0].split("#", 1)[0]
    while path.startswith("./"):
        path = path[2:]
    return path


def to_repo_path(
    path: str,
    *,
    prefixes: Mapping[str, str] | None = None,
    source_roots: Sequence[str] = (),
    exists: Callable[[str], bool] | None = None,
) -> str:
    """Map a deployed path to a repository-relative one where it can be resolved.

    Configured prefixes win (``/var/task/`` -> ``""``); otherwise, with ``exists``, the shortest
    suffix of the path that exists in the repository (under a source root or at the top) is taken;
    otherwise the path comes back without location noise.
    """
    cleaned = strip_location(path)
    for deployed, repo in sorted((prefixes or {}).items(), key=lambda kv: -len(kv[0])):
        if cleaned.startswith(deployed):
            return repo + cleaned[len(deployed) :]
    if exists is None:
        return cleaned.lstrip("/") if not cleaned.startswith("/") else cleaned
    parts = [p for p in cleaned.split("/") if p and p != "."]
    # Longest suffix first that exists, preferring those starting at a source root.
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
