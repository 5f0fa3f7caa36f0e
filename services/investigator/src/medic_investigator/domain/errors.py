"""Errors of the investigator's domain, mapped to work-queue outcomes in one place (``worker.py``)."""

from __future__ import annotations

from medic_contracts import TokenUsage

__all__ = [
    "BudgetExceeded",
    "InvalidAnswer",
    "InvestigationError",
    "PathOutsideRepository",
    "ProviderRefused",
    "ProviderUnavailable",
    "QueryFailed",
    "RepositoryUnavailable",
]


class InvestigationError(Exception):
    """Base of the investigator's own errors."""


class PathOutsideRepository(InvestigationError):
    """A read asked for a path outside the repository checkout (or inside ``.git``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"refused path {path!r}: {reason}")
        self.path = path
        self.reason = reason


class RepositoryUnavailable(InvestigationError):
    """The target's repository cannot be read (missing clone, unknown commit, git failure)."""


class ProviderUnavailable(InvestigationError):
    """The diagnosis provider cannot answer now (rate limit, overload, timeout): retry later, lose nothing."""

    def __init__(self, reason: str, *, retry_after_s: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class ProviderRefused(InvestigationError):
    """The provider rejected the request for good (bad key, bad request): retrying will not help."""


class BudgetExceeded(InvestigationError):
    """The LLM budget (per issue or per day) would be exceeded: a human decides instead."""

    def __init__(self, scope: str, spent_usd: float, limit_usd: float) -> None:
        super().__init__(f"{scope} LLM budget exhausted: ${spent_usd:.4f} of ${limit_usd:.2f}")
        self.scope = scope
        self.spent_usd = spent_usd
        self.limit_usd = limit_usd


class InvalidAnswer(InvestigationError):
    """The model did not produce a valid diagnosis within the allowed repairs (what it cost is kept)."""

    def __init__(self, message: str, *, tokens: TokenUsage, cost_usd: float) -> None:
        super().__init__(message)
        self.tokens = tokens
        self.cost_usd = cost_usd


class QueryFailed(InvestigationError):
    """A diagnostic query was allowed but did not complete (timeout, database error, unreachable)."""

    def __init__(self, reason: str, *, kind: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # timeout | error | unavailable
