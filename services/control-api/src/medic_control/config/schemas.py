"""Request and response models of the config and control endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from medic_contracts import MedicConfig

from ..bodies import RequestBody

__all__ = ["CommandAccepted", "ConfigDocument", "ConfigUpdate", "ControlReason", "ControlStateOut", "Level3Check", "ScanRequest"]


class ConfigDocument(BaseModel):
    """The configuration in force and who put it there."""

    version: int = Field(description="Version in force (increments on every change).", examples=[3])
    config: MedicConfig = Field(description="The whole configuration (its version equals `version`).")
    created_at: datetime = Field(description="When this version was saved.")
    created_by: str = Field(description="Who saved it.", examples=["alice"])
    reason: str = Field(description="Why it was changed.", examples=["allow more deploys during the migration"])
    override_reason: str | None = Field(default=None, description="Reason given when an admin overrode the level-3 rule.")


class ConfigUpdate(RequestBody):
    """A new configuration. Its `version` field is ignored: the server assigns the next one."""

    config: MedicConfig = Field(description="The whole new configuration.")
    expected_version: int | None = Field(
        default=None, ge=0, description="Refuse (409) unless this is the version in force (optimistic concurrency)."
    )
    reason: str = Field(default="", max_length=2000, description="Why the change is made (audited).")
    override_reason: str | None = Field(
        default=None,
        min_length=10,
        max_length=2000,
        description="Admin override of the level-3 rule (30 days at level 2, ≥95% success, no failed auto-deploys); audited.",
    )


class Level3Check(BaseModel):
    """Whether the last 30 days allow autonomy level 3 without an override."""

    eligible: bool = Field(description="True when every criterion holds.")
    unmet: list[str] = Field(description="Criteria that do not hold, in words.")
    days_at_level_2: float = Field(description="Days the configuration has been at level 2 without interruption.")
    production_deployments: int = Field(description="Production deployments judged in the last 30 days.")
    success_rate: float | None = Field(description="Share of them that were promoted (None without deployments).")
    failed_auto_deployments: int = Field(description="Failed or rolled-back production deployments made without approval.")


class ControlReason(RequestBody):
    """Why the operator pauses or resumes."""

    reason: str = Field(default="", max_length=500, description="Shown with the pause state and audited.", examples=["incident"])


class ScanRequest(RequestBody):
    """A manual scan of the sources."""

    target: str | None = Field(default=None, max_length=200, description="Target to scan; all when omitted.", examples=["shop"])
    reason: str = Field(default="", max_length=500, description="Why (audited).")


class CommandAccepted(BaseModel):
    """A control command was recorded and published."""

    command: str = Field(description="The command published.", examples=["pause"])
    event_id: str = Field(description="event_id of the ControlCommand.")
    paused: bool | None = Field(default=None, description="Pause state after the command (pause/resume).")
    issue_id: str | None = Field(default=None, description="Issue it concerns (rollback).")


class ControlStateOut(BaseModel):
    """The kill switch and the configuration in force (what services read at start-up)."""

    paused: bool = Field(description="True while Medic is paused.")
    reason: str = Field(description="Why it is paused (empty when running).")
    config: MedicConfig = Field(description="The configuration in force.")
    updated_at: datetime = Field(description="When the pause state last changed.")
    updated_by: str = Field(description="Who changed it.")
