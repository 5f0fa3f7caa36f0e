"""Builds the investigator service process."""

from __future__ import annotations

import os
from datetime import timedelta

from medic_contracts import (
    ApprovalRequested,
    ConfigError,
    DeploymentResult,
    DiagnosisReady,
    IssueDetected,
    TargetConfig,
    TopicName,
    load_target,
    section,
)
from medic_runtime import HandlerContext, Redactor, ServiceRuntime, run_service

from . import handlers
from .adapters.database import DatabaseSection, ReadOnlyDatabase
from .adapters.llm.section import LlmSection
from .adapters.providers import DiagnosisProvider, build_provider
from .adapters.repo import CheckoutCache
from .adapters.store import StoreCaseMemory, StoreSpendLedger, investigator_metadata
from .settings import InvestigatorSettings
from .worker import Diagnoser

__all__ = ["build", "load_databases", "load_targets", "main"]


def load_targets(settings: InvestigatorSettings) -> tuple[dict[str, TargetConfig], dict[str, LlmSection]]:
    """Every target of MEDIC_TARGETS with its validated [llm] section (a bad one stops start-up, naming the field)."""
    targets: dict[str, TargetConfig] = {}
    sections: dict[str, LlmSection] = {}
    for path in settings.target_files():
        target = load_target(path)
        llm = section(LlmSection, target.llm, name=f"{path}: llm")
        if settings.llm_provider:
            llm = llm.model_copy(update={"provider": settings.llm_provider})
        targets[target.name] = target
        sections[target.name] = llm
    return targets, sections


def load_databases(targets: dict[str, TargetConfig], *, redactor: Redactor) -> dict[str, ReadOnlyDatabase]:
    """The read-only database of every target whose medic.toml has a ``[database]`` section.

    The connection string comes from the variable ``dsn_env`` names (read here, once, at start-up); a
    missing variable stops start-up naming the field, as a bad section does.
    """
    databases: dict[str, ReadOnlyDatabase] = {}
    for name, target in targets.items():
        if not target.database:
            continue
        config = section(DatabaseSection, target.database, name=f"{name}: database")
        dsn = os.environ.get(config.dsn_env)
        if not dsn:
            raise ConfigError(f"{name}: database.dsn_env: ${config.dsn_env} is not set")
        databases[name] = ReadOnlyDatabase(config, dsn=dsn, redactor=redactor)
    return databases


def build(settings: InvestigatorSettings) -> ServiceRuntime:
    """Wire the investigator: IssueDetected → ``diagnose`` work → DiagnosisReady + ActionRecorded."""
    targets, sections = load_targets(settings)
    runtime = ServiceRuntime(settings, extra_tables=(investigator_metadata,))
    runtime.publishes(DiagnosisReady, ApprovalRequested)
    memory = StoreCaseMemory(runtime.store)
    ledger = StoreSpendLedger(runtime.store)
    api_key = settings.api_key()
    databases = load_databases(targets, redactor=runtime.redactor)
    providers: dict[str, DiagnosisProvider] = {
        name: build_provider(llm, api_key=api_key, ledger=ledger, redactor=runtime.redactor, database=databases.get(name))
        for name, llm in sections.items()
    }
    diagnoser = Diagnoser(
        targets=targets,
        providers=providers,
        checkouts=CheckoutCache(settings.workdir / "checkouts"),
        memory=memory,
        config=runtime.config,
        needs_human_below={name: llm.needs_human_below for name, llm in sections.items()},
        unavailable_patience_s={name: llm.unavailable_patience_s for name, llm in sections.items()},
        history_window=timedelta(hours=settings.history_window_hours),
        memory_threshold=settings.memory_similarity,
        redactor=runtime.redactor,
        databases=databases,
    )

    @runtime.consume(TopicName.ISSUES_DETECTED, IssueDetected)
    async def on_issue_detected(event: IssueDetected, ctx: HandlerContext) -> None:
        await handlers.enqueue_diagnosis(event, ctx, work=runtime.work, memory=memory)

    @runtime.consume(TopicName.DEPLOYMENTS_RESULT, DeploymentResult)
    async def on_deployment_result(event: DeploymentResult, ctx: HandlerContext) -> None:
        await handlers.remember_outcome(event, ctx, memory=memory)

    runtime.worker("diagnose", concurrency=settings.diagnose_concurrency, lease_s=120)(diagnoser)
    return runtime


def main() -> None:
    """Console script `medic-investigator`."""
    run_service(InvestigatorSettings, build)
