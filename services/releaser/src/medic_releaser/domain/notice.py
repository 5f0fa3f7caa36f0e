"""What the releaser tells people after a stage, and how it reads in Slack, email and the console."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medic_contracts import CheckVerdict, DeploymentOutcome, DeploymentStage, IssueBrief

from .runs import ReleaseRun

__all__ = ["ReleaseNotice", "is_failure", "notice_for"]

_FAILURES = frozenset(
    {
        DeploymentOutcome.ROLLED_BACK,
        DeploymentOutcome.FAILED,
        DeploymentOutcome.BLOCKED,
        DeploymentOutcome.REOPENED,
        DeploymentOutcome.AWAITING_APPROVAL,  # a human has to act: every channel hears about it
    }
)
_ICONS = {
    DeploymentOutcome.PROMOTED: ":white_check_mark:",
    DeploymentOutcome.ROLLED_BACK: ":rewind:",
    DeploymentOutcome.FAILED: ":x:",
    DeploymentOutcome.BLOCKED: ":no_entry:",
    DeploymentOutcome.AWAITING_APPROVAL: ":raised_hand:",
    DeploymentOutcome.REOPENED: ":repeat:",
    DeploymentOutcome.VERIFIED: ":white_check_mark:",
}


def is_failure(outcome: DeploymentOutcome) -> bool:
    """True for outcomes a 'failures only' channel still hears about (including approvals waiting on a human)."""
    return outcome in _FAILURES


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line(text: str) -> str:
    """One line: error text is attacker-influenced, and a newline in a mail header or title is an injection."""
    return " ".join(text.split())


def _mrkdwn(text: str) -> str:
    """Slack's escaping for untrusted text: no links, mentions or formatting smuggled in through <, > and &."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True, slots=True)
class ReleaseNotice:
    """One stage's result, for humans."""

    issue_id: str
    issue: IssueBrief
    stage: DeploymentStage
    outcome: DeploymentOutcome
    reason: str
    pr_url: str | None = None
    commit_sha: str = ""
    deployment_id: str | None = None
    deployment_url: str | None = None
    root_cause: str | None = None
    checks: tuple[CheckVerdict, ...] = ()
    dashboard_url: str | None = None
    approval_id: str | None = None
    metrics_before: dict[str, float] = field(default_factory=dict)
    metrics_after: dict[str, float] = field(default_factory=dict)

    @property
    def failure(self) -> bool:
        """True when this is something that went wrong."""
        return is_failure(self.outcome)

    @property
    def headline(self) -> str:
        """One line: outcome, stage, issue."""
        return f"{self.outcome.value.replace('_', ' ')} on {self.stage.value}: {_clip(_line(self.issue.title), 150)}"

    def text(self) -> str:
        """Plain text (email body, console, Slack fallback)."""
        lines = [
            f"Medic release {self.headline}",
            f"Issue: {self.issue_id} ({self.issue.severity.value}, {self.issue.affected_users} affected users)",
            f"Verdict: {self.reason}",
        ]
        if self.root_cause:
            lines.append(f"Root cause: {_clip(self.root_cause, 500)}")
        if self.pr_url:
            lines.append(f"Pull request: {self.pr_url}")
        if self.deployment_id or self.deployment_url:
            lines.append(f"Deployment: {self.deployment_id or ''} {self.deployment_url or ''}".rstrip())
        for check in self.checks:
            lines.append(f"  [{'pass' if check.passed else 'FAIL'}] {check.name}: {_clip(check.detail, 200)}")
        if self.dashboard_url:
            lines.append(f"Dashboard: {self.dashboard_url}/issues/{self.issue_id}")
        return "\n".join(lines)

    def slack_text(self) -> str:
        """The plain-text fallback of a Slack message (Slack parses it as mrkdwn, so it is escaped)."""
        return _mrkdwn(self.text())[:3000]

    def blocks(self) -> list[dict[str, Any]]:
        """Slack Block Kit blocks: what was fixed, root cause, PR, deployment, verdict, and action buttons."""
        fields = [
            {"type": "mrkdwn", "text": f"*Issue*\n{self.issue_id} ({self.issue.severity.value})"},
            {"type": "mrkdwn", "text": f"*Stage*\n{self.stage.value}"},
            {"type": "mrkdwn", "text": f"*Outcome*\n{self.outcome.value}"},
            {"type": "mrkdwn", "text": f"*Commit*\n`{self.commit_sha[:12]}`"},
        ]
        if self.pr_url:
            fields.append({"type": "mrkdwn", "text": f"*Pull request*\n<{self.pr_url}|{_clip(self.pr_url, 80)}>"})
        if self.deployment_id or self.deployment_url:
            label = self.deployment_id or self.deployment_url or ""
            target = f"<{self.deployment_url}|{label}>" if self.deployment_url else label
            fields.append({"type": "mrkdwn", "text": f"*Deployment*\n{target}"})
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": _clip(f"{self.headline}", 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Fixed:* {_mrkdwn(_clip(self.issue.title, 500))}"}},
            {"type": "section", "fields": fields[:10]},
        ]
        if self.root_cause:
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*Root cause:* {_mrkdwn(_clip(self.root_cause, 2000))}"}}
            )
        verdict = f"{_ICONS.get(self.outcome, '')} *Verdict:* {_mrkdwn(_clip(self.reason, 1500))}".strip()
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": verdict}})
        if self.checks:
            lines = [f"{'✅' if c.passed else '❌'} `{c.name}` {_mrkdwn(_clip(c.detail, 200))}" for c in self.checks]
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip("\n".join(lines), 2900)}]})
        if self.dashboard_url:
            base = self.dashboard_url.rstrip("/")
            buttons: list[dict[str, Any]] = [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open in dashboard"},
                    "url": f"{base}/issues/{self.issue_id}",
                    "action_id": "medic_open",
                }
            ]
            if self.outcome is DeploymentOutcome.AWAITING_APPROVAL and self.approval_id:
                buttons.append(
                    {
                        "type": "button",
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "url": f"{base}/approvals/{self.approval_id}",
                        "action_id": "medic_approve",
                    }
                )
            if self.outcome is DeploymentOutcome.PROMOTED:
                buttons.append(
                    {
                        "type": "button",
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Roll back"},
                        "url": f"{base}/issues/{self.issue_id}?action=rollback",
                        "action_id": "medic_rollback",
                    }
                )
            blocks.append({"type": "actions", "elements": buttons})
        return blocks


def notice_for(
    run: ReleaseRun,
    outcome: DeploymentOutcome,
    reason: str,
    *,
    stage: DeploymentStage | None = None,
    checks: tuple[CheckVerdict, ...] = (),
    dashboard_url: str | None = None,
) -> ReleaseNotice:
    """The notice about ``stage`` (default: the run's current one) of a run; the root cause comes with the fix."""
    stage = stage or run.stage
    st = run.state(stage)
    return ReleaseNotice(
        issue_id=run.issue_id,
        issue=run.issue,
        stage=stage,
        outcome=outcome,
        reason=reason,
        pr_url=run.fix.pr_url,
        commit_sha=st.merge_sha or run.fix.commit_sha,
        deployment_id=st.deployment.id if st.deployment else None,
        deployment_url=st.deployment.url if st.deployment else None,
        root_cause=run.fix.root_cause,
        checks=checks,
        dashboard_url=dashboard_url,
        approval_id=st.approval_id,
    )
