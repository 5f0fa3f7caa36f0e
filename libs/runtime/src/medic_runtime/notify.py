"""Delivery channels people hear from, shared by the services that notify: email and Slack.

Email goes out through SMTP (``smtplib`` in a thread) or SendGrid's v3 mail-send API (over httpx);
Slack through slack-sdk's ``chat.postMessage``. Each raises :class:`DeliveryError` with a clear,
secret-free reason when the channel refused or could not be reached; callers map it to their own
domain error. slack-sdk is imported on first use, so services that never post to Slack need not
install it.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

__all__ = ["DeliveryError", "Mail", "Mailer", "SendGridMailer", "SlackPoster", "SmtpMailer"]


class DeliveryError(Exception):
    """A channel refused a message or could not be reached (the text is safe to show and log)."""


@dataclass(frozen=True, slots=True)
class Mail:
    """One email: plain text always, HTML optionally."""

    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None

    def __post_init__(self) -> None:
        if not self.to:
            raise ValueError("an email needs at least one recipient")

    @property
    def safe_subject(self) -> str:
        """The subject on one line (attacker-influenced text must not add headers)."""
        return " ".join(self.subject.split())[:200]


class Mailer(Protocol):
    """Something that delivers a :class:`Mail`."""

    async def send(self, mail: Mail) -> None:
        """Deliver ``mail``; raise DeliveryError when that failed."""
        ...


@dataclass(slots=True)
class SmtpMailer:
    """Email through an SMTP server (smtplib blocks: it runs in a thread)."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 15.0

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(message)

    async def send(self, mail: Mail) -> None:
        """One message to every recipient of ``mail``."""
        message = EmailMessage()
        message["Subject"] = mail.safe_subject
        message["From"] = mail.sender
        message["To"] = ", ".join(mail.to)
        message.set_content(mail.text)
        if mail.html is not None:
            message.add_alternative(mail.html, subtype="html")
        try:
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP delivery failed: {type(exc).__name__}: {exc}") from exc


@dataclass(slots=True)
class SendGridMailer:
    """Email through SendGrid's v3 mail-send API (``POST /v3/mail/send``, 202 on success)."""

    api_key: str = field(repr=False)
    base_url: str = "https://api.sendgrid.com"
    timeout_s: float = 15.0

    def payload(self, mail: Mail) -> dict[str, Any]:
        """The documented request body: personalizations, from, subject, content (text before html)."""
        content = [{"type": "text/plain", "value": mail.text}]
        if mail.html is not None:
            content.append({"type": "text/html", "value": mail.html})
        return {
            "personalizations": [{"to": [{"email": address} for address in mail.to]}],
            "from": {"email": mail.sender},
            "subject": mail.safe_subject,
            "content": content,
        }

    async def send(self, mail: Mail) -> None:
        """POST the mail; anything but 2xx is a DeliveryError naming SendGrid's first error message."""
        url = self.base_url.rstrip("/") + "/v3/mail/send"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(url, json=self.payload(mail), headers={"Authorization": f"Bearer {self.api_key}"})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SendGrid unreachable: {type(exc).__name__}") from exc
        if response.is_success:
            return
        raise DeliveryError(f"SendGrid refused the mail ({response.status_code}): {_sendgrid_error(response)}")


def _sendgrid_error(response: httpx.Response) -> str:
    """SendGrid answers errors as ``{"errors": [{"message": ..., "field": ...}]}``."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        message = str(first.get("message", ""))[:300]
        where = first.get("field")
        return f"{message} (field {where})" if where else message or "no reason given"
    except (ValueError, AttributeError, IndexError, TypeError):
        return response.reason_phrase or "no reason given"


class SlackPoster:
    """Posts to one Slack channel with slack-sdk's AsyncWebClient (``chat.postMessage``)."""

    def __init__(self, *, token: str, channel: str, base_url: str = "https://slack.com/api/") -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        self.channel = channel
        self.client = AsyncWebClient(token=token, base_url=base_url if base_url.endswith("/") else base_url + "/")

    async def post(self, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """One message with its plain-text fallback; DeliveryError names Slack's error code."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            await self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
        except SlackApiError as exc:
            raise DeliveryError(f"Slack refused the message: {exc.response.get('error', 'unknown error')}") from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"Slack unreachable: {type(exc).__name__}") from exc
