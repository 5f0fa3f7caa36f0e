"""Response models of the issues endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from medic_contracts import IssueType, Severity

from ..actions.schemas import ActionOut
from ..approvals.schemas import ApprovalOut
from ..bodies import RequestBody
from ..config.schemas import CommandAccepted
from ..feedback.schemas import FeedbackOut
from .lifecycle import IssueStatus

__all__ = ["CommandAcceptedIssue", "DeploymentOut", "FixOut", "IssueDetail", "IssuePage", "IssueSummary", "RollbackRequest"]


class IssueSummary(BaseModel):
    """An issue in a list."""

    id: str = Field(description="Issue id.", examples=["iss_7d1f2a"])
    target: str = Field(description="Target application.", examples=["shop"])
    service: str = Field(description="Service of the target.", examples=["web"])
    title: str = Field(description="Short title.")
    severity: str = Field(description="P0–P4.", examples=["P1"])
    issue_type: str = Field(description="api_error, database_error, frontend_crash, performance, anomaly, availability.")
    status: str = Field(
        description="detected, diagnosing, fixing, awaiting_approval, deploying, resolved, failed, rolled_back, reopened."
    )
    affected_users: int = Field(description="Distinct users affected.")
    occurrences: int = Field(description="Occurrences seen.")
    detected_at: datetime = Field(description="When it was first detected.")
    status_changed_at: datetime = Field(description="When its status last changed.")
    resolved_at: datetime | None = Field(description="When it was resolved (null unless resolved).")
    last_seen: datetime | None = Field(description="Latest occurrence.")
    pr_url: str | None = Field(description="Pull request of the fix.")
    deployment_stage: str | None = Field(description="Last stage a fix was deployed to (staging, production).")
    rollback_count: int = Field(description="Rollbacks so far.")
    deadline: datetime | None = Field(default=None, description="When the fix is due by its severity SLA (P4: none).")
    sla_escalated_at: datetime | None = Field(default=None, description="When the deadline was escalated as about to be missed.")
    sla_missed_at: datetime | None = Field(default=None, description="When the deadline was recorded as missed.")
    false_positive: bool = Field(default=False, description="A human marked the issue as a false positive.")


class IssueQuery(BaseModel):
    """The filters and page of ``GET /issues`` (query parameters; lists repeat the parameter)."""

    status: list[IssueStatus] = Field(default_factory=list, description="Statuses (repeat for several).")
    severity: list[Severity] = Field(default_factory=list, description="Severities (repeat for several).")
    issue_type: list[IssueType] = Field(default_factory=list, alias="type", description="Issue types (repeat for several).")
    target: str | None = Field(default=None, max_length=200, description="Target application.")
    since: datetime | None = Field(default=None, description="Detected at or after (ISO 8601).")
    until: datetime | None = Field(default=None, description="Detected before (ISO 8601).")
    cursor: str | None = Field(default=None, max_length=500, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=200, description="Page size.")


class IssuePage(BaseModel):
    """A page of issues, newest first."""

    items: list[IssueSummary] = Field(description="The issues.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class FixOut(BaseModel):
    """The fix committed for the issue (latest attempt)."""

    branch: str | None = Field(description="Fix branch.")
    commit_sha: str | None = Field(description="Fix commit.")
    pr_url: str | None = Field(description="Pull request.")
    diff_hash: str | None = Field(description="sha256 of the diff.")
    diff: str | None = Field(description="The unified diff.")
    files_changed: list[str] = Field(description="Files changed.")
    tests: dict[str, Any] | None = Field(description="The test run that gated the commit.")


class DeploymentOut(BaseModel):
    """One stage result of the rollout."""

    at: datetime = Field(description="When the result was reported.")
    stage: str = Field(description="staging or production.")
    outcome: str = Field(description="promoted, rolled_back, awaiting_approval, blocked, failed, verified, reopened.")
    commit_sha: str | None = Field(description="Commit deployed.")
    reason: str = Field(description="Why.")
    checks: list[dict[str, Any]] = Field(description="Each check's verdict.")


class IssueDetail(IssueSummary):
    """An issue with its diagnosis, fix, deployments, approvals, feedback and every audited action."""

    environment: str = Field(description="Environment it was seen in.")
    message: str = Field(description="Representative message (redacted).")
    fingerprint: str = Field(description="Grouping fingerprint.")
    source: str = Field(description="Source that saw it.")
    first_seen: datetime | None = Field(description="First occurrence.")
    commit_sha: str | None = Field(description="Commit deployed when it was seen.")
    root_cause: str | None = Field(description="Diagnosed root cause.")
    affected_file: str | None = Field(description="File of the fault.")
    affected_lines: str | None = Field(description="Lines of the fault (first-last).")
    confidence: float | None = Field(description="Confidence of the diagnosis.")
    fix_strategy: str | None = Field(description="Fix strategy.")
    llm_cost_usd: float = Field(description="LLM spend on this issue.")
    links: list[dict[str, Any]] = Field(description="Links elsewhere (Sentry, …).")
    fix: FixOut | None = Field(description="The latest fix, when one was committed.")
    deployments: list[DeploymentOut] = Field(description="Rollout results, oldest first.")
    approvals: list[ApprovalOut] = Field(description="Approvals asked for this issue.")
    feedback: list[FeedbackOut] = Field(description="Human ratings of the fix.")
    timeline: list[ActionOut] = Field(description="Every audited action, oldest first.")


class RollbackRequest(RequestBody):
    """A manual rollback of an issue's deployed fix."""

    reason: str = Field(default="", max_length=500, description="Why (audited).", examples=["checkout latency doubled"])


class CommandAcceptedIssue(CommandAccepted):
    """A command about one issue was recorded and published."""
