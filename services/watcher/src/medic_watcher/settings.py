"""Settings of the watcher service (environment variables prefixed MEDIC_)."""

from __future__ import annotations

from medic_runtime import ServiceSettings


class WatcherSettings(ServiceSettings):
    """The watcher's settings."""

    service_name: str = "watcher"
