"""Settings of the releaser service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from medic_runtime import ServiceSettings


class ReleaserSettings(ServiceSettings):
    """The releaser's settings."""

    service_name: str = "releaser"
