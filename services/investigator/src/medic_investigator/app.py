"""Builds the investigator service process."""

from __future__ import annotations

from medic_contracts import IssueDetected, TopicName
from medic_runtime import ServiceRuntime, run_service

from . import handlers
from .settings import InvestigatorSettings


def build(settings: InvestigatorSettings) -> ServiceRuntime:
    """Wire the investigator's subscribers onto a runtime."""
    runtime = ServiceRuntime(settings)
    runtime.consume(TopicName.ISSUES_DETECTED, IssueDetected)(handlers.on_event)
    return runtime


def main() -> None:
    """Console script `medic-investigator`."""
    run_service(InvestigatorSettings, build)
