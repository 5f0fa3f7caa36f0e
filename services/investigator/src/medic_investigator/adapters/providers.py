"""Diagnosis providers behind one small interface, chosen by the target's ``[llm]`` section."""

from __future__ import annotations

from typing import Protocol

from medic_runtime import Redactor

from ..domain.diagnosis import Diagnosis, Investigation
from ..domain.playbook import PLAYBOOK_VERSION, playbook_diagnose
from .database import ReadOnlyDatabase
from .diagnosis_request import DiagnosisRequest
from .llm.claude import ClaudeProvider
from .llm.section import LlmSection
from .store import SpendLedger

__all__ = ["DiagnosisProvider", "DiagnosisRequest", "PlaybookProvider", "build_provider"]


class DiagnosisProvider(Protocol):
    """Turns an investigation into a diagnosis."""

    name: str

    async def diagnose(self, inv: Investigation, request: DiagnosisRequest) -> Diagnosis:
        """Diagnose; may raise BudgetExceeded or ProviderUnavailable; database queries made go to ``queries``."""
        ...


class PlaybookProvider:
    """The offline, rule-based provider (the default without an API key)."""

    name = "playbook"

    async def diagnose(self, inv: Investigation, request: DiagnosisRequest) -> Diagnosis:
        """Apply the playbook rules (no I/O, no cost)."""
        return playbook_diagnose(inv).adjusted(provider=self.name, model=PLAYBOOK_VERSION)


def build_provider(
    section: LlmSection,
    *,
    api_key: str | None,
    ledger: SpendLedger,
    redactor: Redactor | None = None,
    database: ReadOnlyDatabase | None = None,
) -> DiagnosisProvider:
    """The provider ``[llm] provider`` asks for: ``auto`` picks Claude when an API key is set.

    ``database`` (the target's ``[database]`` section, when it has one) gives Claude the ``query_database`` tool.
    """
    if section.provider == "playbook" or (section.provider == "auto" and not api_key):
        return PlaybookProvider()
    if not api_key:
        raise ValueError("llm.provider: claude needs an API key (MEDIC_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY)")
    return ClaudeProvider(section=section, api_key=api_key, ledger=ledger, redactor=redactor, database=database)
