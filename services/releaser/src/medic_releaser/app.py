"""Builds the releaser service process."""

from __future__ import annotations

from medic_contracts import FixCommitted, TopicName
from medic_runtime import ServiceRuntime, run_service

from . import handlers
from .settings import ReleaserSettings


def build(settings: ReleaserSettings) -> ServiceRuntime:
    """Wire the releaser's subscribers onto a runtime."""
    runtime = ServiceRuntime(settings)
    runtime.consume(TopicName.FIXES_COMMITTED, FixCommitted)(handlers.on_event)
    return runtime


def main() -> None:
    """Console script `medic-releaser`."""
    run_service(ReleaserSettings, build)
