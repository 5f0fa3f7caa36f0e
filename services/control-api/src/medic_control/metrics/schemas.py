"""Models of the metrics summary."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

__all__ = ["DayPoint", "MetricsSummary"]


class DayPoint(BaseModel):
    """One day of the charts."""

    day: date = Field(description="UTC day.")
    detected: int = Field(description="Issues detected that day.")
    by_severity: dict[str, int] = Field(description="Issues detected by severity (P0–P4).")
    resolved: int = Field(description="Issues resolved that day.")
    mean_time_to_fix_s: float | None = Field(description="Mean detection-to-resolution time of those, in seconds.")
    deployments: int = Field(description="Production deployments judged that day.")
    successful_deployments: int = Field(description="Of those, promoted or verified.")
    rollbacks: int = Field(description="Rollbacks that day.")


class MetricsSummary(BaseModel):
    """What Medic did over a window (default: the last 7 days)."""

    since: datetime = Field(description="Start of the window.")
    until: datetime = Field(description="End of the window.")
    detected: int = Field(description="Issues detected in the window.")
    resolved: int = Field(description="Issues resolved in the window.")
    fixed_automatically: int = Field(description="Resolved with a production deployment that needed no approval.")
    mean_time_to_fix_s: float | None = Field(description="Mean detection-to-resolution time, seconds.")
    median_time_to_fix_s: float | None = Field(description="Median detection-to-resolution time, seconds.")
    success_rate: float | None = Field(description="Production deployments promoted / judged (null without any).")
    rollbacks: int = Field(description="Rollbacks in the window.")
    llm_spend_usd: float = Field(description="LLM cost of diagnoses in the window.")
    by_severity: dict[str, int] = Field(description="Issues detected by severity.")
    by_status: dict[str, int] = Field(description="Issues detected in the window by current status.")
    per_day: list[DayPoint] = Field(description="Daily series for charts, oldest first.")
