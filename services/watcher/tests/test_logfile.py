"""The log tail on real files: rotation, truncation, partial lines, huge lines, restart from the cursor."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from medic_watcher.adapters.sources.logfile import LogTail, read_lines
from medic_watcher.config import LogfileSource
from medic_watcher.domain.normalize import Normaliser

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def line(n: int) -> str:
    return json.dumps({"ts": NOW.isoformat(), "level": "error", "msg": f"line {n}", "service": "web"}) + "\n"


def tail(path: Path) -> LogTail:
    return LogTail(LogfileSource(kind="logfile", path=str(path)), base_dir=path.parent, service="web", normaliser=Normaliser())


def numbers(result) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(e.message.split()[-1]) for e in result.events]


async def test_rotation_by_rename_loses_and_repeats_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(line(i) for i in range(3)))
    source = tail(log)
    first = await source.poll(None, now=NOW)
    assert numbers(first) == [0, 1, 2]
    with log.open("a") as fh:
        fh.write(line(3) + line(4))  # written before rotation, not read yet
    os.rename(log, tmp_path / "app.log.1")
    log.write_text(line(5) + line(6))
    second = await source.poll(first.cursor, now=NOW)
    assert numbers(second) == [3, 4, 5, 6]
    assert numbers(await source.poll(second.cursor, now=NOW)) == []


async def test_a_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(line(0) + line(1)[:10])
    source = tail(log)
    first = await source.poll(None, now=NOW)
    assert numbers(first) == [0]
    with log.open("a") as fh:
        fh.write(line(1)[10:])
    assert numbers(await source.poll(first.cursor, now=NOW)) == [1]


async def test_truncation_in_place_restarts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(line(i) for i in range(5)))
    source = tail(log)
    first = await source.poll(None, now=NOW)
    log.write_text(line(9))
    assert numbers(await source.poll(first.cursor, now=NOW)) == [9]


async def test_a_restart_resumes_from_the_stored_cursor(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(line(i) for i in range(4)))
    first = await tail(log).poll(None, now=NOW)
    stored = json.loads(json.dumps(first.cursor))  # what the store keeps
    with log.open("a") as fh:
        fh.write(line(4))
    assert numbers(await tail(log).poll(stored, now=NOW)) == [4]  # a new process, same cursor


def test_a_10mb_line_is_cut_and_the_next_line_is_intact(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    with log.open("w") as fh:
        fh.write("x" * (10 * 1024 * 1024) + "\n")
        fh.write("after\n")
    lines, offset = read_lines(log, 0, max_line_bytes=4096, max_lines=100)
    assert [len(x) for x in lines] == [4096, 5]
    assert lines[1] == "after"
    assert offset == log.stat().st_size


async def test_request_lines_become_route_samples(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(json.dumps({"ts": NOW.isoformat(), "level": "info", "msg": "ok", "route": "/api/x", "status": 200,
                               "duration_ms": 12.5}) + "\n")  # fmt: skip
    result = await tail(log).poll(None, now=NOW)
    assert [(s.route, s.status, s.duration_ms) for s in result.samples] == [("/api/x", 200, 12.5)]
    assert not result.events[0].is_problem


async def test_a_poll_reads_one_bounded_chunk_and_says_more_is_waiting_even_across_rotation(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    padded = [line(i).replace('"msg"', '"pad": "' + "x" * 400 + '", "msg"') for i in range(10)]
    log.write_text("".join(padded[:7]))
    source = LogTail(
        LogfileSource(kind="logfile", path=str(log), max_lines_per_poll=1000, max_bytes_per_poll=1024),
        base_dir=tmp_path, service="web", normaliser=Normaliser(),
    )  # fmt: skip
    seen: list[int] = []
    first = await source.poll(None, now=NOW)
    assert numbers(first) == [0, 1, 2] and first.more is True  # ~480 bytes a line: the third passes 1 KiB
    seen += numbers(first)
    os.rename(log, tmp_path / "app.log.1")  # rotated with four lines still unread
    log.write_text("".join(padded[7:]))
    cursor = first.cursor
    for _ in range(10):
        result = await source.poll(cursor, now=NOW)
        seen += numbers(result)
        cursor = result.cursor
        if not result.more:
            break
    assert seen == list(range(10))
    assert (await source.poll(cursor, now=NOW)).events == []
