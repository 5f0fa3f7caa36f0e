"""Settings of the implementer service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from medic_runtime import ServiceSettings


class ImplementerSettings(ServiceSettings):
    """The implementer's settings."""

    service_name: str = "implementer"
