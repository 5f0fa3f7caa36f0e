"""Map the paths a deployed application reports to files of its repository.

A frame says ``/var/task/.next/server/app/api/practices/[id]/route.js``,
``webpack-internal:///(rsc)/./src/lib/db.ts``, ``app:///src/app.py`` or
``/usr/src/app/errors/views.py``; the repository holds ``src/app/api/practices/[id]/route.ts``,
``src/lib/db.ts``, ``src/app.py`` and ``errors/views.py``. :func:`normalize_deployed_path` strips
what the build and the host added; :class:`RepoPathResolver` then finds the one repository file
meant: an exact match first, then the longest path suffix that names exactly one file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from posixpath import normpath

__all__ = ["DEFAULT_DEPLOY_PREFIXES", "RepoPathResolver", "normalize_deployed_path"]

# Where platforms put the application: Vercel/AWS Lambda, Docker conventions, Heroku, Render, Azure
DEFAULT_DEPLOY_PREFIXES: tuple[str, ...] = (
    "/var/task/",
    "/usr/src/app/",
    "/opt/render/project/src/",
    "/home/site/wwwroot/",
    "/workspace/",
    "/srv/app/",
    "/opt/app/",
    "/home/app/",
    "/app/",
    "/code/",
    "/srv/",
)

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*(?P<path>/[^?#]*)?")
_WEBPACK_INTERNAL = re.compile(r"^webpack-internal:///(?:\([^)]*\)/)?")
_WEBPACK = re.compile(r"^webpack://[^/]*/(?:\([^)]*\)/)?")
_WINDOWS_DRIVE = re.compile(r"^[a-zA-Z]:/")
_QUERY = re.compile(r"[?#].*$")
_JS_COMPILED = (".js", ".mjs", ".cjs", ".jsx")
_SOURCE_EXTS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


def _strip_prefixes(path: str, prefixes: Iterable[tuple[str, str]]) -> str:
    for prefix, replacement in prefixes:
        if path.startswith(prefix):
            return replacement + path[len(prefix) :]
    return path


def normalize_deployed_path(path: str, prefixes: Mapping[str, str] | None = None) -> str:
    """A deployed/bundler path as a repository-relative path (best guess, not checked against files).

    ``prefixes`` (deployed prefix → repository prefix, from ``[target] path_prefixes``) is applied
    first, longest prefix first; then URL schemes and bundler namespaces (``file://``,
    ``webpack://<name>/``, ``webpack-internal:///(rsc)/``, ``app:///``, ``http(s)://host``), ``~/``,
    query strings and the usual deploy roots (``/var/task/``, ``/app/``, ...) are removed.
    """
    user = sorted((prefixes or {}).items(), key=lambda kv: len(kv[0]), reverse=True)
    text = path.strip().replace("\\", "/")
    text = _strip_prefixes(text, user)
    if text.startswith("webpack-internal:"):
        text = _WEBPACK_INTERNAL.sub("", text)
    elif text.startswith("webpack:"):
        text = _WEBPACK.sub("", text)
    elif text.startswith("app:///"):
        text = text[len("app:///") :]
    elif text.startswith("file://"):
        rest = text[len("file://") :]
        # file:///abs/path, or file://host/path (Windows shares, Edge's file://mac/...)
        text = rest if rest.startswith("/") else "/" + rest.partition("/")[2]
    else:
        url = _URL.match(text)
        if url is not None:
            text = url.group("path") or ""
    text = _QUERY.sub("", text)
    text = _strip_prefixes(text, user)
    if text.startswith("~/"):
        text = text[2:]
    text = _WINDOWS_DRIVE.sub("/", text)
    text = _strip_prefixes(text, ((p, "") for p in DEFAULT_DEPLOY_PREFIXES))
    if not text:
        return ""
    text = normpath(text)
    # paths that climb above their root cannot be the repository's: drop the climbing part
    parts = [p for p in text.split("/") if p not in ("", ".", "..")]
    return "/".join(parts)


def _next_build_candidates(path: str) -> list[str]:
    """Next.js server output → likely sources (``.next/server/app/x/route.js`` → ``src/app/x/route.ts``)."""
    marker = ".next/server/"
    at = path.find(marker)
    if at < 0:
        return []
    rest = path[at + len(marker) :]
    if rest.startswith(("chunks/", "webpack-", "edge-", "middleware-", "server-reference-manifest")):
        return []
    return [f"src/{rest}", rest]


def _extension_variants(path: str) -> list[str]:
    """Compiled JavaScript names → the TypeScript/JSX sources they were built from."""
    for ext in _JS_COMPILED:
        if path.endswith(ext):
            stem = path[: -len(ext)]
            return [stem + e for e in _SOURCE_EXTS if stem + e != path]
    return []


class RepoPathResolver:
    """Resolve deployed paths against the repository's file list (``git ls-files`` output).

    ``resolve`` returns a path from ``files`` or None: never a path that is not in the repository,
    so its result is safe to open under the checkout. Results are cached per input path.
    """

    def __init__(self, files: Iterable[str], prefixes: Mapping[str, str] | None = None) -> None:
        self._prefixes = dict(prefixes or {})
        self._files: set[str] = set()
        self._by_name: dict[str, list[tuple[str, ...]]] = {}
        for raw in files:
            name = normpath(raw.strip().replace("\\", "/")).lstrip("/")
            if not name or name == "." or name.startswith("../"):
                continue
            if name in self._files:
                continue
            self._files.add(name)
            parts = tuple(name.split("/"))
            self._by_name.setdefault(parts[-1], []).append(parts)
        self._cache: dict[str, str | None] = {}

    @property
    def files(self) -> frozenset[str]:
        """The repository files this resolver knows (normalized, repository-relative)."""
        return frozenset(self._files)

    def normalize(self, path: str) -> str:
        """The deployed path with host/bundler prefixes removed (see :func:`normalize_deployed_path`)."""
        return normalize_deployed_path(path, self._prefixes)

    def candidates(self, path: str) -> list[str]:
        """Repository-relative guesses for ``path``, best first (not checked against the files)."""
        base = self.normalize(path)
        if not base:
            return []
        guesses = [*_next_build_candidates(base), base]
        out: list[str] = []
        for guess in guesses:
            for item in (guess, *_extension_variants(guess)):
                if item not in out:
                    out.append(item)
        return out

    def resolve(self, path: str) -> str | None:
        """The repository file ``path`` refers to, or None when no file, or more than one, fits."""
        if path in self._cache:
            return self._cache[path]
        result = self._resolve(path)
        self._cache[path] = result
        return result

    def _resolve(self, path: str) -> str | None:
        candidates = self.candidates(path)
        for candidate in candidates:
            if candidate in self._files:
                return candidate
        # suffix matching: the same extension as reported first, other extensions only as a fallback
        for candidate in candidates:
            found = self._by_suffix(candidate)
            if found is not None:
                return found
        return None

    def _by_suffix(self, candidate: str) -> str | None:
        parts = tuple(candidate.split("/"))
        same_name = self._by_name.get(parts[-1])
        if not same_name:
            return None
        best_len = 0
        best: list[tuple[str, ...]] = []
        for file_parts in same_name:
            common = 0
            for a, b in zip(reversed(parts), reversed(file_parts), strict=False):
                if a != b:
                    break
                common += 1
            if common > best_len:
                best_len, best = common, [file_parts]
            elif common == best_len:
                best.append(file_parts)
        if len(best) != 1:
            return None
        return "/".join(best[0])
