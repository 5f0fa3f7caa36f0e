"""Builds the watcher service process."""

from __future__ import annotations

import sys

from fastapi import Request
from fastapi.responses import JSONResponse

from medic_contracts import CommandName, ControlCommand, DeploymentResult, IssueDetected, TopicName
from medic_runtime import ServiceRuntime, run_service

from . import handlers
from .adapters.store import watcher_metadata
from .pushqueue import Backpressure
from .settings import WatcherSettings
from .worker import Watcher


def build(settings: WatcherSettings) -> ServiceRuntime:
    """Wire the watcher: sources from MEDIC_TARGETS, push and SDK ingest routes, deployment results, scan commands.

    Readiness is the runtime's (serving, broker, store, control plane): a failing source shows
    in ``GET /sources`` and ``/metrics`` but never takes the watcher out of service.
    """
    return build_watcher(settings)[0]


def build_watcher(settings: WatcherSettings) -> tuple[ServiceRuntime, Watcher]:
    """The runtime and the Watcher wired onto it (tests drive the Watcher directly)."""
    runtime = ServiceRuntime(settings, extra_tables=(watcher_metadata,))
    watcher = Watcher.from_settings(runtime, settings)
    runtime.publishes(IssueDetected)
    runtime.consume(TopicName.DEPLOYMENTS_RESULT, DeploymentResult)(watcher.on_deployment)
    runtime.http.include_router(handlers.routes(watcher))
    runtime.http.include_router(handlers.ingest_routes(watcher))

    async def on_backpressure(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Backpressure)
        return handlers.backpressure_response(watcher, request, exc)

    runtime.http.add_exception_handler(Backpressure, on_backpressure)

    @runtime.on_command(CommandName.SCAN)
    async def scan(command: ControlCommand) -> None:
        await handlers.on_scan(watcher, command)

    runtime.on_start(watcher.start)
    runtime.on_stop(watcher.stop)

    @runtime.every(3600, name="watcher-prune-seen")
    async def prune() -> None:
        await watcher.issues.prune_seen(settings.seen_retention_s)

    return runtime, watcher


def main() -> None:
    """Console script `medic-watcher`."""
    # The worker thread is CPU-bound during a flood: hand the GIL back to the event loop after 1 ms
    # instead of 5, so health checks and pushes wait less behind it.
    sys.setswitchinterval(0.001)
    run_service(WatcherSettings, build)
