"""Recurrence as one pure rule: is an occurrence of a fixed issue the fix failing, and what does it undo?

The watcher (regressed after a promoted fix) and the releaser (a watch failing, a promoted release
reopened) ask the same question; both call :func:`decide_recurrence`, so "recurred" means one thing
across services. An occurrence recurs when it was seen *after* the fix reached production: one from
before (production still ran the bug) is the issue going on, not the fix failing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from .events import DeploymentOutcome, DeploymentStage

__all__ = ["Recurrence", "decide_recurrence", "recurrence_outcome"]


class Recurrence(StrEnum):
    """What an occurrence of a fixed issue means."""

    NOT_FIXED = "not_fixed"  # no fix has reached production: the issue simply goes on
    BEFORE_FIX = "before_fix"  # seen before the fix reached production: production still ran the bug
    RECURRED = "recurred"  # seen after the fix reached production: the fix did not hold
    VERIFIED = "verified"  # reported after the fix's verification window closed: no longer that release's to undo

    @property
    def recurred(self) -> bool:
        """True when the occurrence counts against the fix."""
        return self is Recurrence.RECURRED


def _epoch(moment: datetime | float) -> float:
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)


def _after(a: datetime | float, b: datetime | float) -> bool:
    """``a`` later than ``b`` (two datetimes compare exactly, to the microsecond)."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a > b
    return _epoch(a) > _epoch(b)


def decide_recurrence(
    *,
    seen_at: datetime | float,
    fixed_at: datetime | float | None,
    now: datetime | float | None = None,
    verify_until: datetime | float | None = None,
) -> Recurrence:
    """Whether an occurrence seen at ``seen_at`` is a recurrence of the fix that reached production at ``fixed_at``.

    ``verify_until`` (with ``now``) bounds how long after promotion a recurrence still undoes the
    release; without it a recurrence never expires (the watcher's view: regressed after the fix).
    Times are aware datetimes or epoch seconds.
    """
    if fixed_at is None:
        return Recurrence.NOT_FIXED
    if not _after(seen_at, fixed_at):
        return Recurrence.BEFORE_FIX
    if verify_until is not None and now is not None and _after(now, verify_until):
        return Recurrence.VERIFIED
    return Recurrence.RECURRED


def recurrence_outcome(stage: DeploymentStage) -> DeploymentOutcome:
    """What a recurrence does to a release: in production it reopens the issue, elsewhere the stage rolls back."""
    return DeploymentOutcome.REOPENED if stage is DeploymentStage.PRODUCTION else DeploymentOutcome.ROLLED_BACK
