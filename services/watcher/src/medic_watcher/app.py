"""Builds the watcher service process."""

from __future__ import annotations

from medic_contracts import DeploymentResult, TopicName
from medic_runtime import ServiceRuntime, run_service

from . import handlers
from .settings import WatcherSettings


def build(settings: WatcherSettings) -> ServiceRuntime:
    """Wire the watcher's subscribers onto a runtime."""
    runtime = ServiceRuntime(settings)
    runtime.consume(TopicName.DEPLOYMENTS_RESULT, DeploymentResult)(handlers.on_event)
    return runtime


def main() -> None:
    """Console script `medic-watcher`."""
    run_service(WatcherSettings, build)
