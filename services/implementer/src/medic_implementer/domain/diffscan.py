"""What a diff names, read so that no file slips by: both sides of renames and copies, modes, quoted names.

Two inputs, one shape (:class:`DiffEntry`):

- ``git diff --raw -z -M -C`` output (:func:`parse_raw_z`), what the final guard reads from the
  index: NUL-separated, so tabs, newlines, quotes and non-ASCII names arrive as they are;
- a unified diff (:func:`parse_unified`), what candidates, approvals and pull requests carry:
  git C-quotes unusual names there (``"b/.github/workflows/d\\303\\251ploy.yml"``) and a rename
  names its source only in ``rename from``; both are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DiffEntry", "c_unquote", "parse_raw_z", "parse_unified"]

_NO_MODE = "000000"
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One changed file: its status letter, the path after (or the deleted path), the source of a rename or copy, modes."""

    status: str  # A added, M modified, D deleted, R renamed, C copied, T type changed
    path: str
    old_path: str | None = None
    old_mode: str = _NO_MODE
    new_mode: str = _NO_MODE
    added: int = 0
    removed: int = 0

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path this change touches: the source of a rename or copy as well as its target."""
        return (self.old_path, self.path) if self.old_path and self.old_path != self.path else (self.path,)


def c_unquote(text: str) -> str:
    """A name as git wrote it, unquoted: ``"a\\tb"`` -> ``a<TAB>b``, octal escapes decoded as UTF-8 bytes."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if re.match(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", errors="surrogateescape")


def parse_raw_z(output: str) -> list[DiffEntry]:
    """Entries of ``git diff --raw -z [-M -C]``: ``:old new sha sha STATUS NUL path NUL [path NUL]``."""
    fields = output.split("\0")
    entries: list[DiffEntry] = []
    i = 0
    while i < len(fields):
        meta = fields[i].lstrip("\n")
        i += 1
        if not meta.startswith(":"):
            continue
        parts = meta[1:].split()
        if len(parts) < 5 or i >= len(fields):
            continue
        old_mode, new_mode, status = parts[0], parts[1], parts[4][:1]
        if status in ("R", "C") and i + 1 < len(fields):
            entries.append(DiffEntry(status, fields[i + 1], fields[i], old_mode, new_mode))
            i += 2
        else:
            entries.append(DiffEntry(status, fields[i], None, old_mode, new_mode))
            i += 1
    return entries


def _quoted_prefix(text: str) -> tuple[str, str] | None:
    """The C-quoted string at the start of ``text`` and what follows it."""
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return text[: i + 1], text[i + 1 :]
        i += 1
    return None


def _strip_side(name: str, side: str) -> str:
    return name[2:] if name.startswith(f"{side}/") else name


def _header_paths(rest: str) -> tuple[str, str]:
    """The a/ and b/ paths of a ``diff --git`` header (quoted or not)."""
    if rest.startswith('"'):
        split = _quoted_prefix(rest)
        if split:
            first, tail = split
            return _strip_side(c_unquote(first), "a"), _strip_side(c_unquote(tail.strip()), "b")
    if rest.endswith('"') and ' "' in rest:
        first, _, second = rest.rpartition(' "')
        return _strip_side(first, "a"), _strip_side(c_unquote('"' + second), "b")
    half = (len(rest) - 1) // 2  # "a/X b/X": both halves name the same file when it was not renamed
    if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3 :]:
        return _strip_side(rest[:half], "a"), _strip_side(rest[half + 1 :], "b")
    match = re.match(r"^a/(.+?) b/(.+)$", rest)
    return (match.group(1), match.group(2)) if match else (rest, rest)


def _side(line: str, prefix: str, side: str) -> str | None:
    name = line[len(prefix) :].rstrip("\n")
    if name.endswith("\t"):  # git ends names holding a space with a tab in ---/+++ lines
        name = name[:-1]
    if name == "/dev/null":
        return None
    return _strip_side(c_unquote(name), side)


@dataclass
class _Open:
    old: str
    new: str
    status: str = "M"
    old_mode: str = _NO_MODE
    new_mode: str = _NO_MODE
    added: int = 0
    removed: int = 0
    renamed_from: str | None = None
    renamed_to: str | None = None
    in_hunk: bool = False

    def close(self) -> DiffEntry:
        new = self.renamed_to or self.new
        old = self.renamed_from or self.old
        if self.status == "D":
            return DiffEntry("D", old, None, self.old_mode, _NO_MODE, self.added, self.removed)
        mode = self.new_mode if self.new_mode != _NO_MODE else self.old_mode
        if self.status == "A":
            return DiffEntry("A", new, None, _NO_MODE, mode, self.added, self.removed)
        source = old if self.status in ("R", "C") or old != new else None
        status = self.status if source is None or self.status in ("R", "C") else "R"
        return DiffEntry(status, new, source, self.old_mode, mode, self.added, self.removed)


def parse_unified(diff: str) -> list[DiffEntry]:
    """Entries of a ``git diff`` patch: added/removed lines, both sides of renames and copies, modes."""
    entries: list[DiffEntry] = []
    current: _Open | None = None
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            if current is not None:
                entries.append(current.close())
            old, new = _header_paths(line[len("diff --git ") :])
            current = _Open(old, new)
            continue
        if current is None:
            continue
        if current.in_hunk:
            if line.startswith("+"):
                current.added += 1
                continue
            if line.startswith("-"):
                current.removed += 1
                continue
            if line.startswith((" ", "\\", "@@")) or line == "":
                continue
            current.in_hunk = False
        if line.startswith("@@"):
            current.in_hunk = True
        elif line.startswith("--- "):
            current.old = _side(line, "--- ", "a") or current.old
        elif line.startswith("+++ "):
            current.new = _side(line, "+++ ", "b") or current.new
        elif line.startswith("new file mode "):
            current.status, current.new_mode = "A", line.split()[-1]
        elif line.startswith("deleted file mode "):
            current.status, current.old_mode = "D", line.split()[-1]
        elif line.startswith("old mode "):
            current.old_mode = line.split()[-1]
        elif line.startswith("new mode "):
            current.new_mode = line.split()[-1]
        elif line.startswith("index ") and len(line.split()) == 3:
            current.old_mode = current.new_mode = line.split()[-1]
        elif line.startswith(("rename from ", "copy from ")):
            current.status = "R" if line.startswith("rename") else "C"
            current.renamed_from = c_unquote(line.split(" ", 2)[2])
        elif line.startswith(("rename to ", "copy to ")):
            current.renamed_to = c_unquote(line.split(" ", 2)[2])
    if current is not None:
        entries.append(current.close())
    return entries
