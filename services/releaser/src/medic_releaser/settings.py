"""Settings of the releaser service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from medic_runtime import ServiceSettings


class ReleaserSettings(ServiceSettings):
    """The releaser's settings."""

    service_name: str = "releaser"
    target_file: Path | None = Field(default=None, description="The target's medic.toml (MEDIC_TARGET_FILE); required.")
    lease_ttl_s: float = Field(default=60.0, gt=0, le=3600, description="How long a target lease lasts without renewal.")
    release_concurrency: int = Field(default=2, ge=1, le=32, description="Release runs driven at once by this instance.")
    dashboard_url: str | None = Field(default=None, description="control-api dashboard URL, for links in notifications.")
