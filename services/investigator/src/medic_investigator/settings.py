"""Settings of the investigator service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from medic_runtime import ServiceSettings


class InvestigatorSettings(ServiceSettings):
    """The investigator's settings."""

    service_name: str = "investigator"
