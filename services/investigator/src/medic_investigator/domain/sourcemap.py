"""Source Map v3 decoding: a generated (line, column) back to the original file and line.

Used when a TypeScript repository has build output with ``.map`` files and a frame points at the
compiled JavaScript (``dist/…js``, ``.next/server/…js``). Pure: the caller reads the map file.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass

__all__ = ["OriginalPosition", "SourceMap", "SourceMapError"]

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


class SourceMapError(ValueError):
    """The map is not a readable Source Map v3."""


@dataclass(frozen=True, slots=True)
class OriginalPosition:
    """Where a generated position came from (1-based line, 0-based column as in the spec)."""

    source: str
    line: int
    column: int
    name: str | None = None


def _vlq(segment: str) -> list[int]:
    values: list[int] = []
    shift = value = 0
    for ch in segment:
        digit = _B64.get(ch)
        if digit is None:
            raise SourceMapError(f"bad base64 VLQ character {ch!r}")
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift = value = 0
    return values


class SourceMap:
    """A decoded map: per generated line, sorted segments (column, source, line, column, name)."""

    def __init__(self, data: str) -> None:
        try:
            raw = json.loads(data)
        except json.JSONDecodeError as exc:
            raise SourceMapError(f"not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("version") != 3 or not isinstance(raw.get("mappings"), str):
            raise SourceMapError("not a version 3 source map")
        root = str(raw.get("sourceRoot") or "")
        self.sources = [root + str(s) for s in raw.get("sources", [])]
        self.names = [str(n) for n in raw.get("names", [])]
        self.lines: list[list[tuple[int, int, int, int, int]]] = []
        src = src_line = src_col = name = 0
        for line_text in raw["mappings"].split(";"):
            gen_col = 0
            segments: list[tuple[int, int, int, int, int]] = []
            for seg in line_text.split(","):
                if not seg:
                    continue
                fields = _vlq(seg)
                gen_col += fields[0]
                if len(fields) >= 4:
                    src += fields[1]
                    src_line += fields[2]
                    src_col += fields[3]
                    if len(fields) >= 5:
                        name += fields[4]
                        segments.append((gen_col, src, src_line, src_col, name))
                    else:
                        segments.append((gen_col, src, src_line, src_col, -1))
            segments.sort()
            self.lines.append(segments)

    def original(self, line: int, column: int | None = None) -> OriginalPosition | None:
        """The original position of generated ``line`` (1-based) and ``column`` (0-based; None = first mapping)."""
        if line < 1 or line > len(self.lines):
            return None
        segments = self.lines[line - 1]
        if not segments:
            return None
        if column is None:
            seg = segments[0]
        else:
            index = bisect.bisect_right([s[0] for s in segments], column) - 1
            seg = segments[max(index, 0)]
        _, src, src_line, src_col, name = seg
        if src >= len(self.sources):
            return None
        return OriginalPosition(
            source=self.sources[src],
            line=src_line + 1,
            column=src_col,
            name=self.names[name] if 0 <= name < len(self.names) else None,
        )
