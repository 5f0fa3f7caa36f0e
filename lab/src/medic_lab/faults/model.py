"""What one fault case reports, and the counting rules every case shares.

A case is *survived* only when it was measured, its own checks held, and it lost nothing, duplicated
nothing and left nothing unaudited. A case that could not be built says ``not_implemented`` and is
never counted as survived; a case whose setup broke says ``error``.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medic_contracts import ActionRecorded, ActionStatus

__all__ = [
    "SIDE_EFFECTS",
    "FaultResult",
    "audit_duplicates",
    "duplicated_rows",
    "extra",
    "not_implemented",
    "outbox_rows",
    "succeeded",
]

#: The kinds of side effect the report counts duplicates of.
SIDE_EFFECTS = ("commits", "pull_requests", "deploys", "notifications", "audit_rows", "events")


@dataclass
class FaultResult:
    """The measured outcome of one fault case."""

    name: str
    fault: str
    expected: str
    status: str = "measured"  # measured | not_implemented | error
    checks: dict[str, bool] = field(default_factory=dict)
    lost_issues: int = 0
    duplicated_side_effects: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDE_EFFECTS, 0))
    unaudited_side_effects: int = 0
    recovery_s: float | None = None
    observed: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    wall_s: float = 0.0

    @property
    def survived(self) -> bool:
        return (
            self.status == "measured"
            and bool(self.checks)
            and all(self.checks.values())
            and self.lost_issues == 0
            and not any(self.duplicated_side_effects.values())
            and self.unaudited_side_effects == 0
        )

    def duplicate(self, kind: str, count: int) -> None:
        """Add ``count`` duplicated side effects of ``kind``."""
        self.duplicated_side_effects[kind] = self.duplicated_side_effects.get(kind, 0) + max(0, count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fault": self.fault,
            "expected": self.expected,
            "status": self.status,
            "survived": self.survived,
            "lost_issues": self.lost_issues if self.status == "measured" else None,
            "duplicated_side_effects": self.duplicated_side_effects if self.status == "measured" else None,
            "unaudited_side_effects": self.unaudited_side_effects if self.status == "measured" else None,
            "recovery_s": None if self.recovery_s is None else round(self.recovery_s, 2),
            "checks": self.checks,
            "observed": self.observed,
            "detail": self.detail,
            "wall_s": round(self.wall_s, 1),
        }


def not_implemented(name: str, fault: str, expected: str, why: str) -> FaultResult:
    """A case listed in the matrix but not built: reported, never survived."""
    return FaultResult(name=name, fault=fault, expected=expected, status="not_implemented", detail=why)


def extra(counts: Iterable[int]) -> int:
    """How many beyond one each: the duplicates among things that should have happened once."""
    return sum(max(0, n - 1) for n in counts)


def succeeded(events: Iterable[Any], prefix: str = "") -> list[ActionRecorded]:
    """The succeeded ActionRecorded events (the audit trail's rows for side effects done), optionally by action prefix."""
    return [
        e for e in events if isinstance(e, ActionRecorded) and e.status is ActionStatus.SUCCEEDED and e.action.startswith(prefix)
    ]


def duplicated_rows(events: Iterable[Any], *, exclude: tuple[str, ...] = ()) -> dict[str, int]:
    """Succeeded actions recorded more than once for one issue and stage with the same summary → how many times.

    The same event id read twice is one row (the audit trail is keyed by it); the same action done
    and recorded again under a new id is a duplicated row.
    """
    rows = {e.event_id: e for e in succeeded(events) if not (exclude and e.action.startswith(exclude))}
    # The stage is part of what was done: the same smoke check passing on staging and on production is two rows.
    keyed = Counter((e.issue_id, e.action, str(e.details.get("stage", "")), e.summary) for e in rows.values())
    return {f"{i} {a}[{st}]: {summary[:120]}": n for (i, a, st, summary), n in keyed.items() if n > 1}


def audit_duplicates(events: Iterable[Any], *, exclude: tuple[str, ...] = ()) -> int:
    """How many audit rows :func:`duplicated_rows` finds beyond the first of each."""
    return extra(duplicated_rows(events, exclude=exclude).values())


def outbox_rows(data_dir: Path) -> int:
    """Events still waiting in the outboxes of the SQLite stores under ``data_dir`` (written, never published)."""
    total = 0
    for db in sorted(data_dir.rglob("*.db")):
        try:
            with sqlite3.connect(db) as conn:
                total += int(conn.execute("select count(*) from outbox").fetchone()[0])
        except sqlite3.Error:
            continue
    return total
