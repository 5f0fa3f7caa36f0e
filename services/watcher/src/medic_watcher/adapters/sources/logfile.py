"""A JSON-lines log file, tailed across rotation without losing or repeating a line.

The cursor is the file's identity (device, inode) and the byte offset after the last complete
line read. When the path now names a new file (rotation by rename), the rest of the old file is
read first (found by its inode among its siblings), then the new one from its start; a file
shorter than the offset was truncated in place and is read from its start. Only complete lines
are consumed; a line longer than ``max_line_bytes`` is cut, and the rest of it skipped without
being held in memory.

A poll reads at most ``max_lines_per_poll`` lines (one bounded chunk) and says when more are
waiting, so a flood is read chunk after chunk with flat memory. Reading and normalising run on
an executor thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ...config import LogfileSource as LogfileConfig
from ...domain.normalize import Normaliser, route_sample
from ...domain.observed import ObservedEvent
from ...offload import Offload, normalise_log_lines
from .base import PollResult

__all__ = ["LogTail", "read_chunk", "read_lines"]

CHUNK = 1024 * 1024


def read_lines(path: Path, offset: int, *, max_line_bytes: int, max_lines: int) -> tuple[list[str], int]:
    """Complete lines of ``path`` from ``offset`` (each cut at ``max_line_bytes``), and the offset after them."""
    lines, consumed, _ = read_chunk(path, offset, max_line_bytes=max_line_bytes, max_lines=max_lines)
    return lines, consumed


def read_chunk(
    path: Path, offset: int, *, max_line_bytes: int, max_lines: int, max_bytes: int | None = None
) -> tuple[list[str], int, bool]:
    """Like :func:`read_lines`, also stopping once ``max_bytes`` are kept; the flag says a bound stopped it."""
    lines: list[str] = []
    kept = 0
    budget = max_bytes if max_bytes is not None else float("inf")
    with path.open("rb") as fh:
        fh.seek(offset)
        position = offset
        current = bytearray()
        skipping = False
        consumed = offset
        while len(lines) < max_lines and kept < budget:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            start = 0
            while start < len(chunk) and len(lines) < max_lines and kept < budget:
                newline = chunk.find(b"\n", start)
                end = len(chunk) if newline < 0 else newline
                if not skipping:
                    room = max_line_bytes - len(current)
                    current += chunk[start : start + max(0, min(room, end - start))]
                    if end - start > room:
                        skipping = True  # the rest of this line is not kept
                if newline < 0:
                    position += len(chunk) - start
                    start = len(chunk)
                    break
                position += newline + 1 - start
                start = newline + 1
                lines.append(current.decode("utf-8", errors="replace"))
                kept += len(current)
                current = bytearray()
                skipping = False
                consumed = position
    return lines, consumed, len(lines) >= max_lines or kept >= budget


class LogTail:
    """Tails one log file; cursor: ``{"dev": int, "ino": int, "offset": int}``."""

    def __init__(
        self, config: LogfileConfig, *, base_dir: Path, service: str, normaliser: Normaliser, offload: Offload | None = None
    ) -> None:
        self.name = config.name
        self.kind = "logfile"
        self.interval_s = config.interval_s
        self.config = config
        path = Path(config.path)
        self.path = path if path.is_absolute() else base_dir / path
        self.service = service
        self.normaliser = normaliser
        self.offload = offload

    def _find_by_inode(self, dev: int, ino: int) -> Path | None:
        try:
            siblings = list(self.path.parent.iterdir())
        except OSError:
            return None
        for candidate in siblings:
            try:
                st = candidate.stat()
            except OSError:
                continue
            if st.st_ino == ino and st.st_dev == dev and candidate.is_file():
                return candidate
        return None

    def _read(self, cursor: Any) -> tuple[list[str], dict[str, int], bool]:
        """(lines, new cursor, whether the read stopped at its bound with more waiting)."""
        state = cursor if isinstance(cursor, Mapping) else {}
        limit, max_lines, max_bytes = self.config.max_line_bytes, self.config.max_lines_per_poll, self.config.max_bytes_per_poll
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return [], dict(state), False
        lines: list[str] = []
        offset = int(state.get("offset") or 0)
        if state and (state.get("ino"), state.get("dev")) != (st.st_ino, st.st_dev):
            dev, ino = int(state.get("dev") or 0), int(state.get("ino") or 0)
            old = self._find_by_inode(dev, ino)
            if old is not None:
                rest, after, full = read_chunk(old, offset, max_line_bytes=limit, max_lines=max_lines, max_bytes=max_bytes)
                if full:
                    # The rotated file still has more: stay on it, so none of its lines are skipped.
                    return rest, {"dev": dev, "ino": ino, "offset": after}, True
                lines.extend(rest)
            offset = 0
        elif st.st_size < offset:
            offset = 0  # truncated in place
        budget = max_bytes - sum(len(line) for line in lines)
        more, offset, full = read_chunk(
            self.path, offset, max_line_bytes=limit, max_lines=max_lines - len(lines), max_bytes=max(1, budget)
        )
        lines.extend(more)
        return lines, {"dev": st.st_dev, "ino": st.st_ino, "offset": offset}, full

    def _result(self, events: list[ObservedEvent], cursor: dict[str, int], more: bool) -> PollResult:
        result = PollResult(events=events, cursor=cursor, more=more)
        result.samples = [s for e in events if (s := route_sample(e)) is not None]
        return result

    def _read_events(self, cursor: Any, now: datetime) -> PollResult:
        lines, new_cursor, more = self._read(cursor)
        return self._result(normalise_log_lines(self.normaliser, lines, service=self.service, now=now), new_cursor, more)

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """New complete lines since the cursor (one bounded chunk), normalised off the event loop."""
        if self.offload is None:
            return await asyncio.to_thread(self._read_events, cursor, now)
        lines, new_cursor, more = await self.offload.run(self._read, cursor)
        events = await self.offload.log_lines(self.normaliser, lines, service=self.service, now=now)
        return await self.offload.run(self._result, events, new_cursor, more)

    async def close(self) -> None:
        """Nothing to release."""


def file_identity(path: Path) -> tuple[int, int]:
    """(device, inode) of a file."""
    st = os.stat(path)
    return st.st_dev, st.st_ino
