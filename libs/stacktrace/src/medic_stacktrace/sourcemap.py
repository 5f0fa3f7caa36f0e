"""Source maps (revision 3): map a compiled JavaScript line/column back to the original source.

The Base64 VLQ decoder is implemented here (no dependency): ``mappings`` is decoded once per map
into compact per-line arrays and looked up with a binary search, the way Mozilla's
``source-map`` library does with its default GREATEST_LOWER_BOUND bias (the mapping at or before
the column on the same generated line). Index maps (``sections``) are supported.

:class:`SourceMapper` finds the compiled file of a frame under a build directory, its map (an
inline ``data:`` URI, a ``sourceMappingURL`` comment or ``<file>.map``), and rewrites the frame to
the original file, line and column, with context lines from ``sourcesContent``. It reads only
files inside the build directory it was given.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from medic_contracts import StackFrame

from .inapp import DEFAULT_IN_APP_RULES, InAppRules
from .model import ParsedTrace
from .paths import normalize_deployed_path

__all__ = ["OriginalPosition", "SourceMap", "SourceMapError", "SourceMapper", "decode_vlq", "source_map_url"]

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_MAP_URL = re.compile(r"(?://[#@]|/\*[#@])\s*sourceMappingURL=(?P<url>[^\s*'\"]+)")
_CONTEXT = 5
_COMPILED_EXTS = (".js", ".mjs", ".cjs", ".jsx")


class SourceMapError(ValueError):
    """A source map that cannot be read (not JSON, wrong version, broken mappings)."""


def decode_vlq(segment: str) -> list[int]:
    """Decode one Base64 VLQ segment (``"AAgBC"``) into its signed integers."""
    values: list[int] = []
    shift = 0
    value = 0
    for char in segment:
        digit = _B64.get(char)
        if digit is None:
            raise SourceMapError(f"invalid base64 VLQ character {char!r}")
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        value = 0
        shift = 0
    if shift:
        raise SourceMapError("truncated base64 VLQ segment")
    return values


@dataclass(frozen=True)
class OriginalPosition:
    """Where a generated position came from: source (as the map names it), 1-based line and column."""

    source: str
    line: int
    column: int
    name: str | None
    source_content: str | None = field(default=None, repr=False)


class _Decoded:
    """Per generated line: generated columns (for bisect) and the (source, line, column, name) fields."""

    __slots__ = ("columns", "fields")

    def __init__(self) -> None:
        self.columns: list[array[int]] = []
        self.fields: list[array[int]] = []


_DIGITS = [-1] * 128
for _i, _c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"):
    _DIGITS[ord(_c)] = _i


def _decode_mappings(mappings: str) -> _Decoded:
    """Decode ``mappings`` in one pass over its characters (maps run to megabytes: no per-segment calls)."""
    decoded = _Decoded()
    digits = _DIGITS
    source = orig_line = orig_col = name = gen_col = 0
    columns: array[int] = array("q")
    fields: array[int] = array("q")
    segment: list[int] = []
    value = shift = 0
    for char in mappings + ";":
        if char == "," or char == ";":  # noqa: PLR1714  (two compares beat a tuple lookup in this loop)
            if shift:
                raise SourceMapError("truncated base64 VLQ segment")
            count = len(segment)
            if count:
                gen_col += segment[0]
                columns.append(gen_col)
                if count == 1:
                    fields.extend((-1, -1, -1, -1))  # an unmapped stretch of generated code
                elif count in (4, 5):
                    source += segment[1]
                    orig_line += segment[2]
                    orig_col += segment[3]
                    if count == 5:
                        name += segment[4]
                        fields.extend((source, orig_line, orig_col, name))
                    else:
                        fields.extend((source, orig_line, orig_col, -1))
                else:
                    raise SourceMapError(f"mapping segment with {count} fields")
                segment = []
            if char == ";":
                decoded.columns.append(columns)
                decoded.fields.append(fields)
                columns = array("q")
                fields = array("q")
                gen_col = 0
            continue
        code = ord(char)
        digit = digits[code] if code < 128 else -1
        if digit < 0:
            raise SourceMapError(f"invalid base64 VLQ character {char!r}")
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        segment.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    return decoded


class SourceMap:
    """A parsed source map (a regular map or an index map with sections)."""

    def __init__(self, data: Mapping[str, Any], *, location: Path | None = None) -> None:
        if not isinstance(data, Mapping):
            raise SourceMapError("source map is not a JSON object")
        if data.get("version") != 3:
            raise SourceMapError(f"unsupported source map version {data.get('version')!r}")
        self.location = location
        self.file: str | None = data.get("file") if isinstance(data.get("file"), str) else None
        self._sections: list[tuple[int, int, SourceMap]] = []
        self.sources: list[str] = []
        self.sources_content: list[str | None] = []
        self.names: list[str] = []
        self._mappings = ""
        self._decoded: _Decoded | None = None
        sections = data.get("sections")
        if sections is not None:
            if not isinstance(sections, list):
                raise SourceMapError("sections must be a list")
            for section in sections:
                offset = section.get("offset", {}) if isinstance(section, Mapping) else {}
                inner = section.get("map") if isinstance(section, Mapping) else None
                if inner is None:
                    raise SourceMapError("index map sections with a url are not supported")
                self._sections.append(
                    (int(offset.get("line", 0)), int(offset.get("column", 0)), SourceMap(inner, location=location))
                )
            self._sections.sort(key=lambda s: (s[0], s[1]))
            return
        root = data.get("sourceRoot") or ""
        raw_sources = data.get("sources") or []
        if not isinstance(raw_sources, list):
            raise SourceMapError("sources must be a list")
        for source in raw_sources:
            text = source if isinstance(source, str) else ""
            if root and text and not re.match(r"^[a-zA-Z][\w+.-]*:", text) and not text.startswith("/"):
                text = root.rstrip("/") + "/" + text
            self.sources.append(text)
        contents = data.get("sourcesContent") or []
        self.sources_content = [c if isinstance(c, str) else None for c in contents] if isinstance(contents, list) else []
        names = data.get("names") or []
        self.names = [n if isinstance(n, str) else "" for n in names] if isinstance(names, list) else []
        mappings = data.get("mappings", "")
        if not isinstance(mappings, str):
            raise SourceMapError("mappings must be a string")
        self._mappings = mappings

    @classmethod
    def from_json(cls, text: str | bytes, *, location: Path | None = None) -> SourceMap:
        """Parse a source map document (``)]}'`` XSSI prefixes are tolerated, as the spec allows)."""
        raw = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
        if raw.startswith(")]}'"):
            raw = raw.split("\n", 1)[1] if "\n" in raw else ""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SourceMapError(f"source map is not JSON: {exc}") from exc
        return cls(data, location=location)

    def _decoded_mappings(self) -> _Decoded:
        if self._decoded is None:
            self._decoded = _decode_mappings(self._mappings)
        return self._decoded

    def lookup(self, line: int, column: int) -> OriginalPosition | None:
        """The original position of generated ``line``/``column`` (both 1-based), or None if unmapped."""
        if line < 1 or column < 1:
            return None
        if self._sections:
            return self._lookup_sections(line - 1, column - 1)
        return self._lookup0(line - 1, column - 1)

    def _lookup_sections(self, line0: int, col0: int) -> OriginalPosition | None:
        chosen: tuple[int, int, SourceMap] | None = None
        for section in self._sections:
            if (section[0], section[1]) <= (line0, col0):
                chosen = section
            else:
                break
        if chosen is None:
            return None
        off_line, off_col, inner = chosen
        rel_line = line0 - off_line
        rel_col = col0 - off_col if rel_line == 0 else col0
        return inner.lookup(rel_line + 1, rel_col + 1)

    def _lookup0(self, line0: int, col0: int) -> OriginalPosition | None:
        decoded = self._decoded_mappings()
        if line0 >= len(decoded.columns):
            return None
        columns = decoded.columns[line0]
        at = bisect_right(columns, col0) - 1
        if at < 0:
            return None
        fields = decoded.fields[line0]
        source, orig_line, orig_col, name = fields[at * 4 : at * 4 + 4]
        if source < 0 or source >= len(self.sources):
            return None
        mapped_name = self.names[name] if 0 <= name < len(self.names) else None
        content = self.sources_content[source] if source < len(self.sources_content) else None
        return OriginalPosition(
            source=self.sources[source], line=orig_line + 1, column=orig_col + 1, name=mapped_name, source_content=content
        )


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
        if frame.line is None or frame.column is None:
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
