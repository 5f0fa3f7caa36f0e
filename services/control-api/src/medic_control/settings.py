"""Settings of control-api (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from medic_runtime import ServiceSettings


class ControlSettings(ServiceSettings):
    """control-api's settings."""

    service_name: str = "control-api"
    http_port: int = 8080
