"""Source maps (revision 3): map a compiled JavaScript line/column back to the original source.

The Base64 VLQ decoder is implemented here (no dependency): ``mappings`` is decoded once per map
into compact per-line arrays and looked up with a binary search, the way Mozilla's
``source-map`` library does with its default GREATEST_LOWER_BOUND bias (the mapping at or before
the column on the same generated line). Index maps (``sections``) are supported. Pure: reading
compiled files and their maps is :class:`~medic_stacktrace.SourceMapper`'s job (``mapper.py``).
"""

from __future__ import annotations

import json
import re
from array import array
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OriginalPosition", "SourceMap", "SourceMapError", "decode_vlq"]

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


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

    def lookup(self, line: int, column: int | None = None) -> OriginalPosition | None:
        """The original position of generated ``line``/``column`` (both 1-based), or None if unmapped.

        Without a column (a frame that reported none) the line's first mapping is taken.
        """
        if line < 1 or (column is not None and column < 1):
            return None
        if self._sections:
            return self._lookup_sections(line - 1, column - 1 if column is not None else None)
        return self._lookup0(line - 1, column - 1 if column is not None else None)

    def _lookup_sections(self, line0: int, col0: int | None) -> OriginalPosition | None:
        chosen: tuple[int, int, SourceMap] | None = None
        for section in self._sections:
            if (section[0], section[1]) <= (line0, col0 if col0 is not None else section[1]):
                chosen = section
            else:
                break
        if chosen is None:
            return None
        off_line, off_col, inner = chosen
        rel_line = line0 - off_line
        if col0 is None:
            return inner.lookup(rel_line + 1)
        rel_col = col0 - off_col if rel_line == 0 else col0
        return inner.lookup(rel_line + 1, rel_col + 1)

    def _lookup0(self, line0: int, col0: int | None) -> OriginalPosition | None:
        decoded = self._decoded_mappings()
        if line0 >= len(decoded.columns):
            return None
        columns = decoded.columns[line0]
        at = (0 if len(columns) else -1) if col0 is None else bisect_right(columns, col0) - 1
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
