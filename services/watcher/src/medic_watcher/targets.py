"""One watched target: its configuration, its sources, and the per-target state of the pipeline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from medic_contracts import TargetConfig

from .adapters.repo import FrameResolver
from .adapters.sources.base import Source
from .config import SourceConfig, SourcesSection
from .domain.normalize import Normaliser
from .domain.templates import TemplateMiner
from .health import SourceHealth

__all__ = ["TargetWatch"]


@dataclass(slots=True)
class TargetWatch:
    """One target: its configuration, sources, normaliser and in-memory miner."""

    target: TargetConfig
    section: SourcesSection
    sources: dict[str, Source]
    normaliser: Normaliser
    resolver: FrameResolver
    miner: TemplateMiner | None = None
    miner_version: int = 0  # of the templates in the store this miner was restored from or saved as
    health: dict[str, SourceHealth] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def service_of(self, config: SourceConfig) -> str:
        """The target service a source reports on."""
        return config.service or self.target.services[0]

    def config_of(self, name: str) -> SourceConfig:
        """A source's configuration by name."""
        for source in self.section.sources:
            if source.name == name:
                return source
        raise KeyError(name)
