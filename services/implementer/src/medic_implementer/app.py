"""Builds the implementer service process."""

from __future__ import annotations

from medic_contracts import DiagnosisReady, TopicName
from medic_runtime import ServiceRuntime, run_service

from . import handlers
from .settings import ImplementerSettings


def build(settings: ImplementerSettings) -> ServiceRuntime:
    """Wire the implementer's subscribers onto a runtime."""
    runtime = ServiceRuntime(settings)
    runtime.consume(TopicName.DIAGNOSES_READY, DiagnosisReady)(handlers.on_event)
    return runtime


def main() -> None:
    """Console script `medic-implementer`."""
    run_service(ImplementerSettings, build)
