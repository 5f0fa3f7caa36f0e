"""Email through SMTP and SendGrid, Slack through slack-sdk: each real client against a local server."""

from __future__ import annotations

import socket

import pytest

from medic_runtime.notify import DeliveryError, Mail, SendGridMailer, SlackPoster, SmtpMailer
from medic_testing.runtime.fakes import FakeSendGrid, FakeSlack, serve, smtp_inbox

MAIL = Mail(
    sender="medic@example.com",
    to=("oncall@example.com", "lead@example.com"),
    subject="Weekly review\nBcc: everyone@example.com",
    text="3 issues detected",
    html="<p>3 issues detected</p>",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sendgrid_gets_the_documented_body_with_bearer_auth_and_accepts_with_202() -> None:
    fake = FakeSendGrid()
    async with serve(fake.app()) as url:
        await SendGridMailer(api_key=fake.api_key, base_url=url).send(MAIL)
    [body] = fake.mails
    assert body["personalizations"] == [{"to": [{"email": "oncall@example.com"}, {"email": "lead@example.com"}]}]
    assert body["from"] == {"email": "medic@example.com"}
    # The subject stays one line: attacker-influenced text cannot smuggle a header in.
    assert body["subject"] == "Weekly review Bcc: everyone@example.com"
    assert body["content"] == [{"type": "text/plain", "value": "3 issues detected"},
                               {"type": "text/html", "value": "<p>3 issues detected</p>"}]  # fmt: skip


async def test_sendgrid_refusals_and_outages_are_clear_errors_without_the_key() -> None:
    fake = FakeSendGrid()
    async with serve(fake.app()) as url:
        with pytest.raises(DeliveryError, match=r"refused the mail \(401\): The provided authorization grant") as refused:
            await SendGridMailer(api_key="SG.stolen", base_url=url).send(MAIL)
        assert "SG.stolen" not in str(refused.value)
    with pytest.raises(DeliveryError, match="SendGrid unreachable"):
        await SendGridMailer(api_key=fake.api_key, base_url=f"http://127.0.0.1:{free_port()}", timeout_s=2).send(MAIL)
    assert fake.mails == []


async def test_smtp_delivers_text_and_html_to_every_recipient() -> None:
    with smtp_inbox() as inbox:
        await SmtpMailer(host=inbox.host, port=inbox.port).send(MAIL)
    [mail] = inbox.messages
    assert mail["Subject"] == "Weekly review Bcc: everyone@example.com"
    assert mail["To"] == "oncall@example.com, lead@example.com"
    assert mail["Bcc"] is None
    parts = {part.get_content_type(): bytes(part.get_payload(decode=True)) for part in mail.walk() if not part.is_multipart()}
    assert parts["text/plain"].decode().strip() == "3 issues detected"
    assert b"<p>3 issues detected</p>" in parts["text/html"]


async def test_an_unreachable_smtp_server_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match="SMTP delivery failed"):
        await SmtpMailer(host="127.0.0.1", port=free_port(), timeout_s=2).send(MAIL)


async def test_slack_posts_blocks_and_names_slack_error_codes() -> None:
    fake = FakeSlack()
    async with serve(fake.app()) as url:
        await SlackPoster(token=fake.token, channel="#medic", base_url=f"{url}/api").post(
            text="weekly review", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*3* issues"}}]
        )
        with pytest.raises(DeliveryError, match="channel_not_found"):
            await SlackPoster(token=fake.token, channel="#nowhere", base_url=f"{url}/api/").post(text="x")
        with pytest.raises(DeliveryError, match="invalid_auth"):
            await SlackPoster(token="xoxb-stolen", channel="#medic", base_url=f"{url}/api/").post(text="x")
    [message] = fake.messages
    assert message["text"] == "weekly review" and message["blocks"][0]["text"]["text"] == "*3* issues"


def test_a_mail_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        Mail(sender="m@example.com", to=(), subject="s", text="t")
