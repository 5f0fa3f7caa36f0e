"""Issue type and severity P0–P4 from the configured rule set (``MedicConfig.severity_rules``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from medic_contracts import IssueType, Severity, SeverityRule

from .observed import ObservedEvent

__all__ = ["SeverityDecision", "SeverityFacts", "classify", "decide_severity"]

_DATABASE_TYPES = re.compile(
    r"(?i)(postgres|psycopg|asyncpg|sqlalchemy|sqlite|mysql|prisma|sequelize|typeorm|queryfailed|knex|"
    r"operationalerror|integrityerror|programmingerror|databaseerror|dataerror|deadlock|doesnotexist|pgerror|sqlstate)"
)
_DATABASE_MODULES = re.compile(
    r"(?i)(sqlalchemy|psycopg|asyncpg|django/db/|prisma|node_modules/pg/|supabase|postgrest|sequelize)"
)
_BROWSER_PLATFORMS = {"javascript", "browser"}


def classify(event: ObservedEvent) -> IssueType:
    """What kind of problem an event is (health failures, database errors, browser crashes, API errors)."""
    if event.health_check_failing:
        return IssueType.AVAILABILITY
    if event.tags.get("medic.anomaly"):
        return IssueType.PERFORMANCE if event.tags.get("medic.metric") == "p95_latency" else IssueType.ANOMALY
    if event.tags.get("medic.latency_over_budget") or event.tags.get("medic.slow_query"):
        return IssueType.PERFORMANCE
    exc = event.exception
    if event.source == "supabase" and event.tags.get("table") == "postgres_logs":
        return IssueType.DATABASE_ERROR
    if exc is not None and (_DATABASE_TYPES.search(exc.type) or _DATABASE_TYPES.search(exc.module or "")):
        return IssueType.DATABASE_ERROR
    if exc is not None and "relation" in exc.value and "does not exist" in exc.value:
        return IssueType.DATABASE_ERROR
    innermost = event.frames[-1] if event.frames else None
    if innermost is not None and not innermost.in_app and _DATABASE_MODULES.search(f"{innermost.file} {innermost.module or ''}"):
        return IssueType.DATABASE_ERROR
    if event.platform in _BROWSER_PLATFORMS:
        return IssueType.FRONTEND_CRASH
    return IssueType.API_ERROR


@dataclass(frozen=True, slots=True)
class SeverityFacts:
    """What severity rules are evaluated against."""

    issue_type: IssueType
    count_in: Callable[[int], int]  # occurrences in the last N seconds of the issue's life
    affected_users: int
    status: int | None = None
    route: str | None = None
    health_check_failing: bool = False
    error_rate: float | None = None
    informational: bool = False  # warnings and below: at most P4


@dataclass(frozen=True, slots=True)
class SeverityDecision:
    """A severity and the rule that gave it."""

    severity: Severity
    rule: str


def _matches(rule: SeverityRule, facts: SeverityFacts) -> bool:
    if rule.issue_types and facts.issue_type not in rule.issue_types:
        return False
    if rule.health_check_failing is not None and rule.health_check_failing != facts.health_check_failing:
        return False
    if rule.min_affected_users is not None and facts.affected_users < rule.min_affected_users:
        return False
    if rule.status_at_least is not None and (facts.status is None or facts.status < rule.status_at_least):
        return False
    if rule.route_prefixes and not (facts.route and facts.route.startswith(rule.route_prefixes)):
        return False
    if rule.error_rate_at_least is not None and (facts.error_rate is None or facts.error_rate < rule.error_rate_at_least):
        return False
    return not (rule.min_count is not None and facts.count_in(rule.window_seconds) < rule.min_count)


def decide_severity(rules: Sequence[SeverityRule], facts: SeverityFacts) -> SeverityDecision:
    """The first matching rule's severity; P4 (informational) when none matches or the event is a warning."""
    if facts.informational:
        return SeverityDecision(Severity.P4, "informational (warning or below)")
    for rule in rules:
        if _matches(rule, facts):
            return SeverityDecision(rule.severity, rule.name)
    return SeverityDecision(Severity.P4, "no rule matched")
