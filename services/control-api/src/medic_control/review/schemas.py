"""Models of the weekly review."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["ReviewIssue", "ReviewMetric", "ReviewSent", "WeeklyReview"]


class ReviewMetric(BaseModel):
    """One figure of the week beside the seed's target for it (when the seed names one)."""

    name: str = Field(description="Stable key.", examples=["median_time_to_fix_s"])
    label: str = Field(description="What it is, in words.", examples=["Median time to fix"])
    value: float | None = Field(description="The week's value (null when there was nothing to measure).", examples=[240.0])
    display: str = Field(description="The value formatted for people.", examples=["4.0 min"])
    target: str | None = Field(description="The seed's target, in words (null: no target).", examples=["< 5 min"])
    met: bool | None = Field(description="Whether the target was met (null: no target or nothing to measure).")


class ReviewIssue(BaseModel):
    """A P4 issue of the week (never auto-fixed: a human decides)."""

    id: str = Field(description="Issue id.", examples=["iss_7d1f2a"])
    title: str = Field(description="Short title.")
    target: str = Field(description="Target application.")
    service: str = Field(description="Service of the target.")
    issue_type: str = Field(description="Kind of problem.")
    status: str = Field(description="Current status.")
    occurrences: int = Field(description="Occurrences seen.")
    affected_users: int = Field(description="Distinct users affected.")
    detected_at: datetime = Field(description="When it was first detected.")
    last_seen: datetime | None = Field(description="Latest occurrence.")
    false_positive: bool = Field(description="A human marked it as a false positive.")


class WeeklyReview(BaseModel):
    """The week in review: what Medic saw and did, against the seed's success targets, and the P4 issues."""

    since: datetime = Field(description="Start of the week (inclusive).")
    until: datetime = Field(description="End of the week (exclusive).")
    metrics: list[ReviewMetric] = Field(description="The week's figures, each beside its target.")
    targets_met: int = Field(description="How many of the targeted figures met their target.")
    targets_judged: int = Field(description="How many targeted figures had something to measure.")
    p4_issues: list[ReviewIssue] = Field(description="P4 issues detected or seen this week, most occurrences first.")

    def metric(self, name: str) -> ReviewMetric:
        """The figure called ``name``."""
        return next(m for m in self.metrics if m.name == name)


class ReviewSent(BaseModel):
    """Where the weekly review was delivered."""

    since: datetime = Field(description="Start of the week reviewed.")
    until: datetime = Field(description="End of the week reviewed.")
    delivered: list[str] = Field(description="Channels that took it (slack, email).")
    failed: dict[str, str] = Field(description="Channels that refused it, with why.")
