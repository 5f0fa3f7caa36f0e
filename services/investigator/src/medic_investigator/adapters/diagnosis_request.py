"""What a diagnosis provider is asked: the repository, the issue's identity, budget and frequency."""

from __future__ import annotations

from dataclasses import dataclass

from medic_contracts import LlmBudget

from ..domain.sql_guard import QueryAttempt
from .repo import Repository

__all__ = ["DiagnosisRequest"]


@dataclass(frozen=True, slots=True)
class DiagnosisRequest:
    """The arguments every :class:`~medic_investigator.adapters.providers.DiagnosisProvider` takes with the investigation.

    Database queries a provider makes are appended to ``queries`` as they happen (so they reach the
    audit trail even when the diagnosis itself fails).
    """

    repo: Repository
    issue_id: str
    budget: LlmBudget
    severity: str = "P2"
    count: int = 1
    window: int = 300
    commit: str | None = None
    queries: list[QueryAttempt] | None = None
