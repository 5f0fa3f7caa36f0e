"""Read a build directory's source maps and rewrite compiled JavaScript frames to their sources.

:class:`SourceMapper` finds the compiled file of a frame under a build directory, its map (an
inline ``data:`` URI, a ``sourceMappingURL`` comment or ``<file>.map``), and rewrites the frame to
the original file, line and column, with context lines from ``sourcesContent``. It reads only
files inside the build directory it was given.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from medic_contracts import StackFrame

from .inapp import DEFAULT_IN_APP_RULES, InAppRules
from .model import ParsedTrace
from .paths import normalize_deployed_path
from .sourcemap import OriginalPosition, SourceMap, SourceMapError

__all__ = ["SourceMapper", "source_map_url"]

_MAP_URL = re.compile(r"(?://[#@]|/\*[#@])\s*sourceMappingURL=(?P<url>[^\s*'\"]+)")
_CONTEXT = 5
_COMPILED_EXTS = (".js", ".mjs", ".cjs", ".jsx")


def source_map_url(javascript: str) -> str | None:
    """The last ``sourceMappingURL`` named in a compiled file's text (a data URI or a relative URL)."""
    found = None
    for match in _MAP_URL.finditer(javascript):
        found = match.group("url")
    return found


def _data_uri(url: str) -> bytes | None:
    header, _, payload = url.partition(",")
    if not header.startswith("data:"):
        return None
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise SourceMapError(f"inline source map is not valid base64: {exc}") from exc
    return unquote(payload).encode("utf-8")


class SourceMapper:
    """Rewrite compiled JavaScript frames to their original sources using a build directory's maps.

    ``build_root`` is the directory holding the build output (for example the repository checkout
    after ``next build``, or ``dist/``); deployed paths are located under it after the same
    prefix stripping as :class:`~medic_stacktrace.RepoPathResolver`. Maps are cached per file.
    """

    def __init__(
        self,
        build_root: Path,
        *,
        prefixes: Mapping[str, str] | None = None,
        rules: InAppRules = DEFAULT_IN_APP_RULES,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.build_root = build_root.resolve()
        self._prefixes = dict(prefixes or {})
        self._rules = rules
        self._max_bytes = max_bytes
        self._maps: dict[Path, SourceMap | None] = {}
        self.errors: list[str] = []

    def _inside(self, path: Path) -> Path | None:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return None
        if real != self.build_root and self.build_root not in real.parents:
            return None
        return real if real.is_file() else None

    def locate(self, deployed_path: str) -> Path | None:
        """The compiled file under ``build_root`` a frame's path refers to, or None."""
        direct = Path(deployed_path)
        if direct.is_absolute():
            found = self._inside(direct)
            if found is not None:
                return found
        relative = normalize_deployed_path(deployed_path, self._prefixes)
        if not relative:
            return None
        candidates = [relative]
        if relative.startswith("_next/"):
            candidates.append(".next/" + relative[len("_next/") :])  # Next.js serves .next/static as /_next/static
        for candidate in candidates:
            parts = candidate.split("/")
            # the build root may sit at any depth of the deployed path: try ever shorter suffixes
            for start in range(len(parts)):
                found = self._inside(self.build_root.joinpath(*parts[start:]))
                if found is not None:
                    return found
        return None

    def _read(self, path: Path) -> bytes | None:
        try:
            if path.stat().st_size > self._max_bytes:
                self.errors.append(f"{path}: larger than {self._max_bytes} bytes, not read")
                return None
            return path.read_bytes()
        except OSError as exc:
            self.errors.append(f"{path}: {exc.strerror or exc}")
            return None

    def map_for(self, compiled: Path) -> SourceMap | None:
        """The source map of a compiled file (inline, by comment, or ``<file>.map``), cached."""
        if compiled in self._maps:
            return self._maps[compiled]
        result: SourceMap | None = None
        try:
            result = self._load_map(compiled)
        except SourceMapError as exc:
            self.errors.append(f"{compiled}: {exc}")
        self._maps[compiled] = result
        return result

    def _load_map(self, compiled: Path) -> SourceMap | None:
        text = self._read(compiled)
        if text is None:
            return None
        url = source_map_url(text.decode("utf-8", errors="replace"))
        if url is not None and url.startswith("data:"):
            payload = _data_uri(url)
            return SourceMap.from_json(payload, location=compiled) if payload is not None else None
        candidates: list[Path] = []
        if url is not None and not re.match(r"^[a-zA-Z][\w+.-]*://", url):
            candidates.append(compiled.parent / unquote(url.split("?")[0]))
        candidates.append(compiled.with_name(compiled.name + ".map"))
        for candidate in candidates:
            found = self._inside(candidate)
            if found is None:
                continue
            data = self._read(found)
            if data is not None:
                return SourceMap.from_json(data, location=found)
        return None

    def _source_path(self, source: str, map_location: Path | None) -> str:
        if re.match(r"^[a-zA-Z][\w+.-]*:", source) or map_location is None:
            return source
        joined = Path(os.path.normpath(map_location.parent / source))
        try:
            return joined.relative_to(self.build_root).as_posix()
        except ValueError:
            return joined.as_posix()

    def map_frame(self, frame: StackFrame) -> StackFrame:
        """``frame`` rewritten to its original source, or unchanged when no map covers it."""
        return self._map_one(frame)[0]

    def _map_one(self, frame: StackFrame) -> tuple[StackFrame, OriginalPosition | None]:
        if frame.line is None:
            return frame, None
        if not frame.file.split("?")[0].endswith(_COMPILED_EXTS):
            return frame, None
        compiled = self.locate(frame.file)
        if compiled is None:
            return frame, None
        source_map = self.map_for(compiled)
        if source_map is None:
            return frame, None
        position = source_map.lookup(frame.line, frame.column)
        if position is None or not position.source:
            return frame, None
        file = self._source_path(position.source, source_map.location)
        update: dict[str, Any] = {
            "file": file,
            "line": position.line,
            "column": position.column,
            "in_app": self._rules.is_in_app(file),
            "context_line": None,
            "pre_context": (),
            "post_context": (),
        }
        content = position.source_content
        if content is not None:
            lines = content.splitlines()
            index = position.line - 1
            if 0 <= index < len(lines):
                update["context_line"] = lines[index]
                update["pre_context"] = tuple(lines[max(0, index - _CONTEXT) : index])
                update["post_context"] = tuple(lines[index + 1 : index + 1 + _CONTEXT])
        return frame.model_copy(update=update), position

    def map_frames(self, frames: Sequence[StackFrame]) -> tuple[StackFrame, ...]:
        """Every frame through :meth:`map_frame`, with original function names restored.

        A minified function's original name is the name the map gives the identifier at its
        caller's call site (the frame before it, frames being innermost last), as Sentry does.
        """
        mapped = [self._map_one(f) for f in frames]
        out: list[StackFrame] = []
        for index, (frame, position) in enumerate(mapped):
            caller_position = mapped[index - 1][1] if index > 0 else None
            if position is not None and caller_position is not None and caller_position.name:
                out.append(frame.model_copy(update={"function": caller_position.name}))
            else:
                out.append(frame)
        return tuple(out)

    def map_trace(self, trace: ParsedTrace) -> ParsedTrace:
        """A copy of ``trace`` with every exception's frames mapped."""
        return trace.map_frames(self.map_frames)
