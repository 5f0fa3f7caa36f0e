"""Notifications: Slack Block Kit through slack-sdk against a local Slack API, SMTP against aiosmtpd, console."""

from __future__ import annotations

import logging
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from medic_contracts import CheckVerdict, DeploymentOutcome, DeploymentStage, IssueBrief, IssueType, Severity
from medic_releaser.adapters.notifiers import ConsoleChannel, EmailChannel, SlackChannel, build_notifiers, wants
from medic_releaser.config import ConsoleNotifier, EmailNotifier, SlackNotifier
from medic_releaser.domain.errors import ReleaseError
from medic_releaser.domain.notice import ReleaseNotice
from medic_runtime.aio import bounded

from .fakes import FakeSlack, serve
from .harness import free_port

ISSUE = IssueBrief(target="shop", service="web", title="TypeError: practice is null", severity=Severity.P1,
                   issue_type=IssueType.API_ERROR, fingerprint="fp", affected_users=3)  # fmt: skip


def notice(outcome: DeploymentOutcome = DeploymentOutcome.ROLLED_BACK, **extra: Any) -> ReleaseNotice:
    values: dict[str, Any] = {
        "issue_id": "iss_1", "issue": ISSUE, "stage": DeploymentStage.STAGING, "outcome": outcome,
        "reason": "error_rate: 40% vs limit 1%", "pr_url": "https://github.com/acme/shop/pull/7", "commit_sha": "a" * 40,
        "deployment_id": "dpl_9", "deployment_url": "https://shop-dpl9.vercel.app", "root_cause": "practice may be null",
        "checks": (CheckVerdict(name="error_rate", passed=False, detail="40% vs 1%"),),
        "dashboard_url": "https://medic.example", "approval_id": "apr_1",
    }  # fmt: skip
    values.update(extra)
    return ReleaseNotice(**values)


async def test_slack_gets_block_kit_with_fix_root_cause_pr_deployment_verdict_and_buttons() -> None:
    fake = FakeSlack()
    async with serve(fake.app()) as url:
        channel = SlackChannel(SlackNotifier(kind="slack", channel="#releases", base_url=f"{url}/api/"), token=fake.token)
        await channel.send(notice(DeploymentOutcome.PROMOTED))
    [message] = fake.messages
    blocks = message["blocks"]
    text = str(blocks)
    for expected in ("TypeError: practice is null", "practice may be null", "pull/7", "dpl_9", "error_rate: 40%"):
        assert expected in text
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert {b["action_id"] for b in buttons} == {"medic_open", "medic_rollback"}
    assert buttons[0]["url"] == "https://medic.example/issues/iss_1"
    assert "promoted on staging" in message["text"]


async def test_slack_approval_buttons_and_refusals_surface_as_errors() -> None:
    fake = FakeSlack()
    async with serve(fake.app()) as url:
        cfg = SlackNotifier(kind="slack", channel="#releases", base_url=f"{url}/api")
        await SlackChannel(cfg, token=fake.token).send(notice(DeploymentOutcome.AWAITING_APPROVAL))
        approve = next(b for b in fake.messages[0]["blocks"] if b["type"] == "actions")["elements"][1]
        assert approve["url"] == "https://medic.example/approvals/apr_1"
        wrong = SlackNotifier(kind="slack", channel="#nowhere", base_url=f"{url}/api/")
        with pytest.raises(ReleaseError, match="channel_not_found"):
            await SlackChannel(wrong, token=fake.token).send(notice())
        with pytest.raises(ReleaseError, match="invalid_auth"):
            await SlackChannel(cfg, token="stolen").send(notice())


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


async def test_email_goes_out_through_smtp() -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel = EmailChannel(EmailNotifier(kind="email", host="127.0.0.1", port=port, sender="medic@example.com",
                                             to=("oncall@example.com",)))  # fmt: skip
        await channel.send(notice())
    finally:
        controller.stop()
    [raw] = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["Subject"] == "[Medic] rolled back on staging: TypeError: practice is null"
    assert mail["To"] == "oncall@example.com"
    body = mail.get_payload(decode=True).decode()
    assert "Root cause: practice may be null" in body and "[FAIL] error_rate" in body


async def test_an_unreachable_smtp_server_is_a_clear_error() -> None:
    channel = EmailChannel(EmailNotifier(kind="email", host="127.0.0.1", port=free_port(), sender="m@example.com",
                                         to=("o@example.com",)))  # fmt: skip
    with pytest.raises(ReleaseError, match="SMTP delivery failed"):
        await bounded(channel.send(notice()), 20)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_failures_only_channels_hear_failures_and_approvals_not_promotions() -> None:
    quiet = ConsoleChannel(ConsoleNotifier(kind="console", on="failures"))
    assert not wants(quiet, notice(DeploymentOutcome.PROMOTED), "all")
    assert wants(quiet, notice(DeploymentOutcome.ROLLED_BACK), "all")
    assert wants(quiet, notice(DeploymentOutcome.AWAITING_APPROVAL), "all")
    loud = ConsoleChannel()
    assert wants(loud, notice(DeploymentOutcome.PROMOTED), "all")
    assert not wants(loud, notice(DeploymentOutcome.PROMOTED), "failures")
    lines, logger = Lines(), logging.getLogger("medic.releaser.notify")
    logger.addHandler(lines)
    try:
        await loud.send(notice())
    finally:
        logger.removeHandler(lines)
    assert any("rolled back on staging" in line for line in lines.lines)
    assert [c.name for c in build_notifiers(())] == ["console"]


def test_attacker_text_cannot_inject_slack_links_or_mail_headers() -> None:
    hostile = ISSUE.model_copy(update={"title": "Error <!channel> <https://evil.example|click>\nBcc: all@example.com"})
    n = notice(issue=hostile, root_cause="see <https://evil.example>")
    # Everything Slack parses as mrkdwn (sections, context, the fallback text) is escaped; headers are plain_text.
    parsed = [b for b in n.blocks() if b["type"] != "header"]
    text = str(parsed) + n.slack_text()
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "&lt;!channel&gt;" in text
    assert "\n" not in n.headline and "\r" not in n.headline


async def test_email_goes_out_through_sendgrid_with_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from medic_testing.runtime.fakes import FakeSendGrid
    from medic_testing.runtime.fakes import serve as serve_api

    fake = FakeSendGrid()
    monkeypatch.setenv("MEDIC_TEST_SENDGRID_KEY", fake.api_key)
    async with serve_api(fake.app()) as url:
        cfg = EmailNotifier(kind="email", provider="sendgrid", api_key_env="MEDIC_TEST_SENDGRID_KEY", base_url=url,
                            sender="medic@example.com", to=("oncall@example.com",))  # fmt: skip
        await EmailChannel(cfg).send(notice())
        monkeypatch.setenv("MEDIC_TEST_SENDGRID_KEY", "SG.revoked")
        with pytest.raises(ReleaseError, match="SendGrid refused the mail"):
            await EmailChannel(cfg).send(notice())
    [mail] = fake.mails
    assert mail["subject"] == "[Medic] rolled back on staging: TypeError: practice is null"
    assert "Root cause: practice may be null" in mail["content"][0]["value"]


def test_an_smtp_email_notifier_without_a_host_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="needs host"):
        EmailNotifier(kind="email", sender="m@example.com", to=("o@example.com",))
