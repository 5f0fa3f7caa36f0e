"""``medic bench grouping --shift``: the grouping scored on variables its rules were not written from.

The date formats and template-display rules of the miner were written while looking at all eight
shared Loghub systems, so their PA/FTA are partly in-sample, and the other Loghub systems are not
obtainable here. This check makes held-out material of the two kinds the issue names instead:
each system's events are rewritten, label-preserving, so that some events carry a timestamp in a
format chosen from the common standards (not from Loghub: ISO 8601 and RFC 3339 variants, RFC 2822,
RFC 850, asctime, Apache CLF, syslog, US and European numeric dates, epoch milliseconds, Go's and
log4j's defaults, a written-out date), and others a user name without a digit (fresh random words,
so no vocabulary knows them). Each inserted value is a fresh draw per line; one event keeps one
format and one insertion place (after its first word or at its end), as one log statement would.

The truth stays what it was: the same event ids, and templates with ``<*>`` where the value went.
Scored on the original and the shifted lines with the same parameters (the miner's defaults, and
Drain3's standard settings): GA and FGA, and PA/FTA with runs of adjacent ``<*>`` counted as one
(a multi-word timestamp is one variable or several, depending on the labeller).
"""

from __future__ import annotations

import hashlib
import random
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .grouping import drain3_parse, medic_parse
from .grouping_metrics import score_parsing
from .loghub import LogSystem, find_systems

__all__ = ["FORMATS", "shift_check", "shift_system"]

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


#: Timestamp renderings from the common standards and defaults (not taken from any Loghub system).
FORMATS: dict[str, Callable[[datetime], str]] = {
    "iso8601_z": lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "rfc3339_ms_offset": lambda t: t.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="milliseconds"),
    "rfc2822": lambda t: f"{_WEEKDAYS[t.weekday()][:3]}, {t.day:02d} {_MONTHS[t.month - 1][:3]} {t.year} {t:%H:%M:%S} +0000",
    "rfc850": lambda t: f"{_WEEKDAYS[t.weekday()]}, {t.day:02d}-{_MONTHS[t.month - 1][:3]}-{t:%y %H:%M:%S} GMT",
    "asctime": lambda t: f"{_WEEKDAYS[t.weekday()][:3]} {_MONTHS[t.month - 1][:3]} {t.day:2d} {t:%H:%M:%S} {t.year}",
    "apache_clf": lambda t: f"[{t.day:02d}/{_MONTHS[t.month - 1][:3]}/{t.year}:{t:%H:%M:%S} +0000]",
    "syslog": lambda t: f"{_MONTHS[t.month - 1][:3]} {t.day:2d} {t:%H:%M:%S}",
    "us_numeric_ampm": lambda t: t.strftime("%m/%d/%Y %I:%M:%S %p"),
    "european_numeric": lambda t: t.strftime("%d.%m.%Y %H:%M:%S"),
    "epoch_ms": lambda t: str(int(t.timestamp() * 1000)),
    "go_default": lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC"),
    "log4j": lambda t: t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}",
    "written_out": lambda t: f"{_WEEKDAYS[t.weekday()]}, {_MONTHS[t.month - 1]} {t.day}, {t.year}",
}
_SHARE = 3  # one event in this many gets a timestamp, one more in this many a user name
_RUNS = re.compile(r"<\*>(?:[\s,]+<\*>)+")


@dataclass(frozen=True, slots=True)
class _Insertion:
    kind: str  # a FORMATS name, or "user"
    after_first_word: bool


def _plan(system: LogSystem, seed: int) -> dict[str, _Insertion]:
    """Which events get what: decided per event id (a stable hash), so every line of an event agrees."""
    plan: dict[str, _Insertion] = {}
    names = sorted(FORMATS)
    for event in sorted(set(system.event_ids)):
        h = int(hashlib.sha256(f"{seed}:{system.name}:{event}".encode()).hexdigest(), 16)
        slot = h % _SHARE
        if slot == 0:
            plan[event] = _Insertion(names[(h // _SHARE) % len(names)], after_first_word=bool(h >> 64 & 1))
        elif slot == 1:
            plan[event] = _Insertion("user", after_first_word=bool(h >> 64 & 1))
    return plan


def _word(rng: random.Random) -> str:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))


def _insert(text: str, phrase: str, *, after_first_word: bool) -> str:
    head, sep, rest = text.partition(" ")
    if after_first_word and sep:
        return f"{head} {phrase} {rest}"
    return f"{text} {phrase}" if text else phrase


def shift_system(system: LogSystem, *, seed: int = 11) -> tuple[LogSystem, dict[str, str]]:
    """The system with timestamps and user names inserted into a third of its events each; event -> what it got."""
    plan = _plan(system, seed)
    rng = random.Random(f"{seed}:{system.name}")  # noqa: S311 - a reproducible rewrite, not a secret
    start = datetime(2025, 1, 1, tzinfo=UTC)
    users = [_word(rng) for _ in range(200)]
    lines, templates = [], []
    for line, event, template in zip(system.lines, system.event_ids, system.templates, strict=True):
        insertion = plan.get(event)
        if insertion is None:
            lines.append(line)
            templates.append(template)
            continue
        if insertion.kind == "user":
            value, mask = f"for user {rng.choice(users)}", "for user <*>"
        else:
            at = start + timedelta(seconds=rng.randrange(0, 3 * 365 * 86_400), microseconds=rng.randrange(1_000_000))
            value, mask = f"at {FORMATS[insertion.kind](at)}", "at <*>"
        lines.append(_insert(line, value, after_first_word=insertion.after_first_word))
        templates.append(_insert(template, mask, after_first_word=insertion.after_first_word))
    shifted = replace(system, lines=tuple(lines), templates=tuple(templates))
    return shifted, {e: i.kind for e, i in plan.items()}


def _collapsed(templates: Sequence[str]) -> list[str]:
    return [_RUNS.sub("<*>", t) for t in templates]


def _score(system: LogSystem, parsed: tuple[list[int], list[str]]) -> dict[str, float]:
    ids, templates = parsed
    s = score_parsing(
        truth_ids=system.event_ids,
        truth_templates=_collapsed(system.templates),
        parsed_ids=ids,
        parsed_templates=_collapsed(templates),
    )
    return {"ga": round(s.ga, 4), "fga": round(s.fga, 4), "pa": round(s.pa, 4), "fta": round(s.fta, 4)}


def _split_events(system: LogSystem, parsed_ids: Sequence[int], events: dict[str, str]) -> dict[str, int]:
    """Per insertion kind: how many events of that kind the parse split or merged (its lines not exactly one group)."""
    by_event: dict[str, set[int]] = {}
    for event, pid in zip(system.event_ids, parsed_ids, strict=True):
        by_event.setdefault(event, set()).add(pid)
    members: dict[int, set[str]] = {}
    for event, pid in zip(system.event_ids, parsed_ids, strict=True):
        members.setdefault(pid, set()).add(event)
    wrong: dict[str, int] = {}
    for event, kind in events.items():
        groups = by_event.get(event, set())
        if len(groups) != 1 or len(members[next(iter(groups))]) != 1:
            wrong[kind] = wrong.get(kind, 0) + 1
    return wrong


def shift_check(data: Path, *, seed: int = 11, corrected: bool = True, with_drain3: bool = True) -> dict[str, Any]:
    """Score the miner (defaults) and Drain3 on each system before and after the shift."""
    systems = find_systems(data, corrected=corrected)
    if not systems:
        raise FileNotFoundError(f"{data}: no *_structured.csv files with Content and EventId columns")
    rows = []
    wrong_by_kind: dict[str, int] = {}
    events_by_kind: dict[str, int] = {}
    for system in systems:
        shifted, events = shift_system(system, seed=seed)
        medic_shifted = medic_parse(shifted.lines)
        row: dict[str, Any] = {
            "name": system.name,
            "events_shifted": len(events),
            "medic": {"original": _score(system, medic_parse(system.lines)), "shifted": _score(shifted, medic_shifted)},
        }
        if with_drain3:
            row["drain3"] = {
                "original": _score(system, drain3_parse(system.lines)),
                "shifted": _score(shifted, drain3_parse(shifted.lines)),
            }
        wrong = _split_events(shifted, medic_shifted[0], events)
        row["medic_events_wrong_by_kind"] = wrong
        for kind in events.values():
            events_by_kind[kind] = events_by_kind.get(kind, 0) + 1
        for kind, n in wrong.items():
            wrong_by_kind[kind] = wrong_by_kind.get(kind, 0) + n
        rows.append(row)
    who = ("medic", "drain3") if with_drain3 else ("medic",)
    mean = {
        f"{w}_{when}_{m}": round(statistics.fmean(r[w][when][m] for r in rows), 4)
        for w in who
        for when in ("original", "shifted")
        for m in ("ga", "fga", "pa", "fta")
    }
    return {
        "systems": rows,
        "mean": mean,
        "medic_events_wrong": {k: f"{wrong_by_kind.get(k, 0)}/{n}" for k, n in sorted(events_by_kind.items())},
        "labels": "corrected" if corrected else "original",
        "seed": seed,
        "note": "PA/FTA here count a run of adjacent <*> as one variable, on both the truth and the parse",
    }
