"""The polled sources of a target, built from its ``[[sources]]`` section (push-only kinds build none)."""

from __future__ import annotations

import os
from pathlib import Path

from medic_contracts import TargetConfig

from ...config import (
    HealthcheckSource,
    LogfileSource,
    PostgresSource,
    PrometheusSource,
    SentrySource,
    SourcesSection,
    SupabaseSource,
    VercelSource,
)
from ...domain.normalize import Normaliser
from ...offload import Offload
from .base import Source
from .healthcheck import HealthChecker
from .logfile import LogTail
from .postgres import PostgresStatsPoller
from .prometheus import PrometheusPoller
from .sentry import SentryPoller
from .supabase import SupabasePoller
from .vercel import VercelPoller

__all__ = ["build_sources", "secret"]


def secret(name: str | None) -> str | None:
    """The value of the variable ``name`` (None when unnamed or unset)."""
    # Sources name the variables that hold their secrets; they are read once, at build time.
    return os.environ.get(name) if name else None


def build_sources(
    target: TargetConfig, sources: SourcesSection, normaliser: Normaliser, *, offload: Offload | None = None
) -> dict[str, Source]:
    """The polled source adapters of a target (secrets read from the variables the section names).

    ``offload`` runs the file sources' reading and normalising (default: asyncio's thread pool).
    """
    built: dict[str, Source] = {}
    base_dir = Path(target.base_dir)
    for config in sources.sources:
        service = config.service or target.services[0]
        if isinstance(config, SentrySource):
            built[config.name] = SentryPoller(
                config, token=secret(config.token_env) or "", service=service, normaliser=normaliser
            )
        elif isinstance(config, VercelSource):
            if config.poll:
                built[config.name] = VercelPoller(
                    config, token=secret(config.token_env) or "", service=service, normaliser=normaliser
                )
        elif isinstance(config, SupabaseSource):
            built[config.name] = SupabasePoller(
                config, token=secret(config.token_env) or "", service=service, normaliser=normaliser
            )
        elif isinstance(config, HealthcheckSource):
            built[config.name] = HealthChecker(config, service=service, normaliser=normaliser)
        elif isinstance(config, PrometheusSource):
            built[config.name] = PrometheusPoller(
                config, token=secret(config.token_env) or None, service=service, normaliser=normaliser
            )
        elif isinstance(config, LogfileSource):
            built[config.name] = LogTail(config, base_dir=base_dir, service=service, normaliser=normaliser, offload=offload)
        elif isinstance(config, PostgresSource):
            built[config.name] = PostgresStatsPoller(
                config, dsn=secret(config.dsn_env) or "", service=service, normaliser=normaliser
            )
    return built
