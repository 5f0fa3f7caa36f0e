"""Models of per-strategy outcomes and success rates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

__all__ = ["StrategyOutcomeKind", "StrategyPeriod", "StrategyReport", "StrategyStats"]


class StrategyOutcomeKind(StrEnum):
    """What happened to a fix made with a strategy."""

    COMMITTED = "committed"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    REOPENED = "reopened"
    REJECTED = "rejected"
    TESTS_FAILED = "tests_failed"
    RATED = "rated"


class StrategyPeriod(BaseModel):
    """One strategy over one period."""

    start: date = Field(description="First day of the period (UTC).", examples=["2026-11-23"])
    fixes: int = Field(ge=0, description="Fixes committed with the strategy.", examples=[4])
    succeeded: int = Field(ge=0, description="Fixes promoted to production.", examples=[3])
    failed: int = Field(ge=0, description="Fixes rolled back, reopened, rejected or failing their tests.", examples=[1])
    success_rate: float | None = Field(
        default=None, ge=0, le=1, description="succeeded / (succeeded + failed); null without a verdict.", examples=[0.75]
    )


class StrategyStats(BaseModel):
    """How one fix strategy fared over the window."""

    strategy: str = Field(description="Fix strategy (FixStrategy value).", examples=["null_guard"])
    fixes: int = Field(ge=0, description="Fixes committed.", examples=[12])
    promoted: int = Field(ge=0, description="Promoted to production.", examples=[10])
    rolled_back: int = Field(ge=0, description="Rolled back by the releaser.", examples=[1])
    reopened: int = Field(ge=0, description="Promoted, then the fixed error came back.", examples=[0])
    rejected: int = Field(ge=0, description="Rejected by a human.", examples=[1])
    tests_failed: int = Field(ge=0, description="Attempts whose tests failed (nothing committed).", examples=[2])
    ratings: int = Field(ge=0, description="Human ratings.", examples=[3])
    mean_rating: float | None = Field(default=None, ge=1, le=5, description="Mean human rating (1–5).", examples=[4.3])
    success_rate: float | None = Field(
        default=None, ge=0, le=1, description="promoted / (promoted + failures) over the window.", examples=[0.77]
    )
    confidence: float = Field(
        ge=0, le=1, description="Beta(1,1) mean over every outcome and rating: what the implementer ranks by.", examples=[0.7]
    )
    last_outcome_at: datetime | None = Field(default=None, description="Most recent outcome.")
    periods: list[StrategyPeriod] = Field(description="The window in periods of `bucket_days`, oldest first.")


class StrategyReport(BaseModel):
    """Every fix strategy's outcomes and success rate over time."""

    since: datetime = Field(description="Start of the window.")
    until: datetime = Field(description="End of the window.")
    bucket_days: int = Field(ge=1, description="Days per period.", examples=[7])
    strategies: list[StrategyStats] = Field(description="One entry per strategy seen, most fixes first.")
