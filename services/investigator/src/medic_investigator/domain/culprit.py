"""Which frame is the culprit, judged against the repository's own files.

A frame's ``in_app`` flag is only a hint (SDKs mark Django's own frames in-app, bundlers rename
paths): a frame is the application's code when its path maps onto a file tracked in the
repository. Deployed paths are mapped by the target's ``path_prefixes``, then by stripping the
usual deploy prefixes (``/var/task/``, ``/app/``, ``webpack://``, ``app:///``, ``.next/server/``)
and finally by the longest unique suffix of path components.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from medic_contracts import StackFrame

__all__ = ["CandidateFrame", "RepoIndex", "choose_culprits", "is_library_path", "map_to_repo"]

_SCHEME = re.compile(r"^(?:webpack-internal:///|webpack:///?|app:///|file:///?|[a-z][a-z0-9+.-]*://[^/]*)", re.IGNORECASE)
_BUNDLER_NOISE = re.compile(r"^(?:\([^)]*\)/|\./|_N_E/|~/)+")
_LIBRARY = re.compile(
    r"(?:^|/)(?:node_modules|site-packages|dist-packages|__pypackages__|\.venv|venv|lib/python\d[\d.]*)/|"
    r"^(?:node:|internal/|<frozen |<string>|<anonymous>|native|\[native code\])"
)
_COMPILED_DIRS = ("dist/", "build/", "out/", ".next/server/", ".next/static/", "lib/")
_SOURCE_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".py")


def is_library_path(path: str) -> bool:
    """True for framework, runtime and third-party paths (never the culprit)."""
    return bool(_LIBRARY.search(path.replace("\\", "/")))


class RepoIndex:
    """The repository's file list, indexed for suffix lookups."""

    def __init__(self, files: Sequence[str]) -> None:
        self.files = frozenset(files)
        self._by_name: dict[str, list[str]] = {}
        for f in files:
            self._by_name.setdefault(PurePosixPath(f).name, []).append(f)

    def suffix_match(self, path: str) -> str | None:
        """The repository file sharing the longest unique path suffix with ``path``."""
        parts = PurePosixPath(path).parts
        if not parts:
            return None
        candidates = self._by_name.get(parts[-1], [])
        best: str | None = None
        best_len = 0
        tie = False
        for candidate in candidates:
            cparts = PurePosixPath(candidate).parts
            n = 0
            while n < min(len(parts), len(cparts)) and parts[-1 - n] == cparts[-1 - n]:
                n += 1
            if n > best_len:
                best, best_len, tie = candidate, n, False
            elif n == best_len:
                tie = True
        return None if tie else best


def _normalise(path: str) -> str:
    path = path.replace("\\", "/").split("?")[0].split("#")[0]
    path = _SCHEME.sub("", path)
    return _BUNDLER_NOISE.sub("", path)


def map_to_repo(path: str, *, index: RepoIndex, prefixes: Mapping[str, str] = {}) -> str | None:
    """The repository-relative file a reported path stands for, or None when it is not the repo's code."""
    if not path or is_library_path(path):
        return None
    raw = path.replace("\\", "/")
    for deployed, local in sorted(prefixes.items(), key=lambda kv: -len(kv[0])):
        if raw.startswith(deployed):
            candidate = (local.rstrip("/") + "/" + raw[len(deployed) :].lstrip("/")).lstrip("/")
            if candidate in index.files:
                return candidate
    cleaned = _normalise(raw)
    if cleaned in index.files:
        return cleaned
    stripped = cleaned.lstrip("/")
    for prefix in ("var/task/", "app/", "srv/", "usr/src/app/", "home/app/", "workspace/", "code/", "opt/app/"):
        if stripped.startswith(prefix) and stripped[len(prefix) :] in index.files:
            return stripped[len(prefix) :]
    if stripped in index.files:
        return stripped
    return index.suffix_match(stripped)


def compiled_source_guess(path: str, *, index: RepoIndex) -> str | None:
    """For compiled output without a source map (``dist/foo.js``), the source file it was built from."""
    stripped = _normalise(path).lstrip("/")
    for directory in _COMPILED_DIRS:
        marker = stripped.find(directory)
        if marker < 0:
            continue
        tail = stripped[marker + len(directory) :]
        stem = tail.rsplit(".", 1)[0]
        for root in ("src/", "", "app/"):
            for ext in (".ts", ".tsx", ".js"):
                if root + stem + ext in index.files:
                    return root + stem + ext
    return None


@dataclass(frozen=True, slots=True)
class CandidateFrame:
    """A frame mapped onto the repository, ranked by how likely it holds the fault."""

    file: str  # repository-relative
    line: int
    column: int | None
    function: str | None
    frame: StackFrame
    depth: int  # 0 = innermost


def choose_culprits(
    frames: Sequence[StackFrame], *, index: RepoIndex, prefixes: Mapping[str, str] = {}, limit: int = 5
) -> list[CandidateFrame]:
    """Repository frames, innermost first: the first is the culprit (deepest application frame)."""
    out: list[CandidateFrame] = []
    for depth, frame in enumerate(reversed(frames)):
        if frame.line is None or frame.line < 1:
            continue
        mapped = map_to_repo(frame.file, index=index, prefixes=prefixes)
        if mapped is None and frame.module and not is_library_path(frame.file):
            module_path = frame.module.replace(".", "/")
            mapped = index.suffix_match(module_path + ".py")
        if mapped is None or not mapped.endswith(_SOURCE_EXTENSIONS):
            continue
        out.append(CandidateFrame(mapped, frame.line, frame.column, frame.function, frame, depth))
        if len(out) >= limit:
            break
    return out
