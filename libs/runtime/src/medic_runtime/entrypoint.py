"""The process entry point of a service: settings, logging, data dirs, tracing, then serve until SIGTERM."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn

from .observability import configure_logging, configure_tracing
from .preflight import check_data_dirs
from .service import ServiceRuntime
from .settings import ServiceSettings, SettingsError, load_settings

__all__ = ["run_service"]

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def run_service(settings_cls: type[SettingsT], build: Callable[[SettingsT], ServiceRuntime]) -> None:
    """Process entry point: settings (fail fast), logging, tracing, then serve until SIGTERM."""
    try:
        settings = load_settings(settings_cls)
    except SettingsError as exc:
        sys.stderr.write(f"medic: {exc}\n")
        raise SystemExit(2) from None
    configure_logging(
        service=settings.service_name, instance=settings.instance_id, level=settings.log_level, fmt=settings.log_format
    )
    # Before anything opens a file: an unusable data dir is one line naming the path and the cause.
    problem = check_data_dirs(settings)
    if problem is not None:
        sys.stderr.write(problem.line(settings.service_name) + "\n")
        raise SystemExit(1)
    configure_tracing(
        service=settings.service_name,
        instance=settings.instance_id,
        exporter=settings.otel_exporter,
        endpoint=settings.otel_endpoint,
    )
    try:
        runtime = build(settings)
    except ValueError as exc:  # ConfigError and friends: bad target/section configuration
        sys.stderr.write(f"medic-{settings.service_name}: {exc}\n")
        raise SystemExit(2) from None
    config = uvicorn.Config(
        runtime.http,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )
    server = uvicorn.Server(config)
    # Everything built so far (modules, models, the app) lives as long as the process: out of the
    # collector's way, so collections under load scan only what requests and events allocate.
    gc.collect()
    gc.freeze()
    server.run()
    if not server.started:
        raise SystemExit(1)
