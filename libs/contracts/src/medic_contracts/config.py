"""The Medic configuration model: what control-api owns and every service caches.

It holds the seed design's safety settings: autonomy level, caps, protected paths, business hours,
severity rules and the LLM budget. Services evaluate policy with the copy they cached and fail
closed when they hold none or it is older than allowed.
"""

from __future__ import annotations

from datetime import time
from enum import IntEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .events import IssueType, Severity

__all__ = [
    "ALWAYS_PROTECTED_PATHS",
    "DEFAULT_APPROVAL_PATHS",
    "DEFAULT_PROTECTED_PATHS",
    "AutonomyLevel",
    "BusinessHours",
    "Caps",
    "LlmBudget",
    "MedicConfig",
    "SeverityRule",
    "SeveritySla",
]

# Files that build, deploy or run the code, or change how git and package managers behave: a fix
# never needs to touch them, and a write to one runs attacker-chosen code somewhere else.
_DEPLOY_AND_HOSTING = (
    "**/Dockerfile*",
    "**/*.dockerfile",
    "**/.dockerignore",
    "**/compose.yaml",
    "**/compose.yml",
    "**/docker-compose*.yaml",
    "**/docker-compose*.yml",
    "**/vercel.json",
    "**/netlify.toml",
    "**/fly.toml",
)
_CI = (
    ".gitlab/**",
    ".gitlab-ci.yml",
    "bitbucket-pipelines.yml",
    ".travis.yml",
    "azure-pipelines*.yml",
    "azure-pipelines*.yaml",
)
_HOOKS_AND_PACKAGE_MANAGERS = (
    ".husky/**",
    "**/.pre-commit-config.yaml",
    "**/.npmrc",
    "**/.yarnrc*",
    "**/.pypirc",
)
_GIT_ATTRIBUTES = ("**/.gitattributes", "**/.gitmodules")

#: The seed design's protected paths and the deploy, CI, hook and package-manager files above: the fixer never writes them.
DEFAULT_PROTECTED_PATHS: tuple[str, ...] = (
    "supabase/migrations/*.sql",
    "**/supabase/migrations/**",
    "src/app/api/billing/**",
    "src/app/api/webhooks/stripe/**",
    ".env*",
    "**/.env*",
    "vercel.json",
    *_DEPLOY_AND_HOSTING,
    *_CI,
    *_HOOKS_AND_PACKAGE_MANAGERS,
    *_GIT_ATTRIBUTES,
)
#: Paths the fixer may write only with a human's approval (dependency manifests and lock files, at any depth).
DEFAULT_APPROVAL_PATHS: tuple[str, ...] = (
    "package.json",
    "**/package.json",
    "package-lock.json",
    "**/package-lock.json",
    "pnpm-lock.yaml",
    "**/pnpm-lock.yaml",
    "yarn.lock",
    "**/yarn.lock",
)
#: Never writable, whatever the configuration says: git internals, CI, deploy files, Medic's config.
ALWAYS_PROTECTED_PATHS: tuple[str, ...] = (
    ".git/**",
    ".git",
    ".github/**",
    ".gitlab-ci.yml",
    ".circleci/**",
    "Jenkinsfile",
    ".buildkite/**",
    "azure-pipelines.yml",
    "Dockerfile",
    "**/Dockerfile",
    "docker-compose*.yml",
    *_CI,
    *_HOOKS_AND_PACKAGE_MANAGERS,
    *_GIT_ATTRIBUTES,  # attributes name filter and diff drivers: commands git runs
    "deploy/**",
    "k8s/**",
    "helm/**",
    "terraform/**",
    "medic.toml",
    ".medic/**",
)


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AutonomyLevel(IntEnum):
    """How much Medic may do without a human (seed design §7)."""

    MONITOR = 1  # detect, diagnose, propose; a human approves every deploy
    AUTO_LOW_RISK = 2  # autonomous for P2–P4 with few affected users; approval otherwise
    FULL = 3  # autonomous; notify after


class Caps(_Config):
    """Hard limits on what Medic does per day and per issue."""

    deploys_per_day: int = Field(default=10, ge=0, le=1000, description="Production deployments allowed per calendar day.")
    rollbacks_per_issue: int = Field(default=3, ge=0, le=100, description="Rollbacks per issue before a human is required.")
    max_diff_lines: int = Field(default=200, ge=1, le=100_000, description="A larger fix needs approval.")
    level2_max_affected_users: int = Field(
        default=10, ge=0, description="Level 2 deploys automatically below this many affected users."
    )
    p0_approval_affected_users: int = Field(default=100, ge=0, description="A P0 above this many affected users needs approval.")


class BusinessHours(_Config):
    """When P2–P4 fixes may be deployed."""

    start: time = Field(default=time(9, 0), description="Start of the deploy window (local time).")
    end: time = Field(default=time(18, 0), description="End of the deploy window (local time).")
    timezone: str = Field(default="Europe/London", description="IANA time zone of the window.")
    working_days: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), description="Weekdays (Monday=0) the window is open.")
    holidays_country: str | None = Field(
        default="GB", description="Country whose public holidays close the window (holidays package)."
    )
    holidays_subdivision: str | None = Field(default="ENG", description="Subdivision for holidays (GB: ENG, SCT, WLS, NIR).")
    applies_to: tuple[Severity, ...] = Field(
        default=(Severity.P2, Severity.P3, Severity.P4), description="Severities the window restricts."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("working_days are weekday numbers 0 (Monday) to 6 (Sunday)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business_hours.end must be after start")
        return self


class SeveritySla(_Config):
    """How fast each severity must be fixed and deployed (seed design)."""

    p0_minutes: int | None = Field(default=15, ge=1, description="P0: immediately (deadline in minutes).")
    p1_minutes: int | None = Field(default=30, ge=1, description="P1: immediately (deadline in minutes).")
    p2_minutes: int | None = Field(default=60, ge=1, description="P2: within 1 hour.")
    p3_minutes: int | None = Field(default=24 * 60, ge=1, description="P3: within 24 hours.")
    p4_minutes: int | None = Field(default=None, ge=1, description="P4: never auto-fixed; weekly review.")
    escalate_before_minutes: int = Field(default=10, ge=0, description="Escalate this long before a deadline is missed.")

    def minutes(self, severity: Severity) -> int | None:
        """The SLA in minutes for a severity; None means no deadline (not auto-fixed)."""
        value: int | None = getattr(self, f"{severity.value.lower()}_minutes")
        return value


class SeverityRule(_Config):
    """One severity rule: the first rule that matches an issue decides its severity."""

    name: str = Field(description="Name shown with the decision.")
    severity: Severity = Field(description="Severity given when the rule matches.")
    issue_types: tuple[IssueType, ...] = Field(default=(), description="Issue types it applies to; empty means any.")
    min_count: int | None = Field(default=None, ge=1, description="At least this many occurrences in the window.")
    window_seconds: int = Field(default=300, ge=1, description="Window for min_count.")
    min_affected_users: int | None = Field(default=None, ge=0, description="At least this many distinct users.")
    status_at_least: int | None = Field(default=None, ge=100, le=599, description="Request status at least this (e.g. 500).")
    route_prefixes: tuple[str, ...] = Field(default=(), description="Routes it applies to (prefix match); empty means any.")
    health_check_failing: bool | None = Field(default=None, description="Matches only when a health check fails.")
    error_rate_at_least: float | None = Field(default=None, ge=0, le=1, description="Route error rate at least this.")


def _default_severity_rules() -> tuple[SeverityRule, ...]:
    return (
        SeverityRule(name="health check failing", severity=Severity.P0, health_check_failing=True),
        SeverityRule(name="many users affected", severity=Severity.P0, min_affected_users=101),
        SeverityRule(
            name="critical route error rate",
            severity=Severity.P0,
            error_rate_at_least=0.5,
            min_count=20,
            route_prefixes=("/api/checkout", "/api/auth", "/api/billing"),
        ),
        SeverityRule(
            name="repeated 5xx on an API route",
            severity=Severity.P1,
            status_at_least=500,
            min_count=10,
            window_seconds=300,
            route_prefixes=("/api/",),
        ),
        SeverityRule(name="repeated errors", severity=Severity.P2, min_count=3, window_seconds=300),
        SeverityRule(name="sporadic errors", severity=Severity.P3, min_count=1),
    )


class LlmBudget(_Config):
    """What Medic may spend on LLM calls."""

    per_issue_usd: float = Field(default=2.0, ge=0, description="Per-issue budget; beyond it the issue goes to a human.")
    per_day_usd: float = Field(default=50.0, ge=0, description="Per-day budget across all issues.")


class MedicConfig(_Config):
    """The whole runtime configuration control-api owns (``GET/PUT /api/v1/config``)."""

    version: int = Field(default=0, ge=0, description="Increments on every change.")
    active: bool = Field(default=True, description="False is the kill switch: nothing moves until it is True again.")
    autonomy_level: AutonomyLevel = Field(
        default=AutonomyLevel.AUTO_LOW_RISK, description="1 monitor, 2 auto-fix low risk, 3 full autonomy."
    )
    caps: Caps = Field(default_factory=Caps, description="Deploy and rollback caps.")
    protected_paths: tuple[str, ...] = Field(default=DEFAULT_PROTECTED_PATHS, description="Globs the fixer never writes.")
    approval_paths: tuple[str, ...] = Field(
        default=DEFAULT_APPROVAL_PATHS, description="Globs the fixer writes only with approval."
    )
    business_hours: BusinessHours = Field(default_factory=BusinessHours, description="Deploy window for P2–P4.")
    severity_rules: tuple[SeverityRule, ...] = Field(
        default_factory=_default_severity_rules, description="Ordered severity rules."
    )
    sla: SeveritySla = Field(default_factory=SeveritySla, description="Fix deadlines per severity.")
    llm_budget: LlmBudget = Field(default_factory=LlmBudget, description="LLM spend limits.")
    approval_ttl_minutes: int = Field(default=24 * 60, ge=1, description="How long an approval request stays open.")
    notify: Literal["failures", "all"] = Field(default="all", description="Notify on failures only, or on everything.")

    @field_validator("protected_paths", "approval_paths")
    @classmethod
    def _clean_globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip() for v in value if v.strip())
        for glob in cleaned:
            if "\x00" in glob:
                raise ValueError("path globs may not contain NUL")
        return cleaned
