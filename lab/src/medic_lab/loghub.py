"""Loghub-style labelled systems: ``X_2k.log_structured.csv`` (and ``_corrected``) files in a folder."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LogSystem", "find_systems"]


@dataclass(frozen=True, slots=True)
class LogSystem:
    """One labelled system: its log contents, ground-truth event ids and templates (one per line)."""

    name: str
    lines: tuple[str, ...]
    event_ids: tuple[str, ...]
    templates: tuple[str, ...]
    corrected: bool = False


def _load(path: Path, name: str, *, corrected: bool) -> LogSystem | None:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "Content" not in rows[0] or "EventId" not in rows[0]:
        return None
    return LogSystem(
        name=name,
        lines=tuple(r["Content"] or "" for r in rows),
        event_ids=tuple((r["EventId"] or "").strip() for r in rows),
        templates=tuple(r.get("EventTemplate") or "" for r in rows),
        corrected=corrected,
    )


def find_systems(data: Path, *, corrected: bool = False) -> list[LogSystem]:
    """Every labelled system under ``data``, by name.

    ``corrected`` reads ``X_2k.log_structured_corrected.csv`` (Khan et al.'s refined labels, which
    Loghub-2.0 scores against) where a system has one, else its original file.
    """
    originals = sorted(p for p in data.rglob("*_structured.csv"))
    systems = []
    for path in originals:
        name = path.name.split("_")[0]
        fixed = path.with_name(path.name.replace("_structured.csv", "_structured_corrected.csv"))
        use_fixed = corrected and fixed.is_file()
        system = _load(fixed if use_fixed else path, name, corrected=use_fixed)
        if system is not None:
            systems.append(system)
    return systems
