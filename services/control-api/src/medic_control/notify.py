"""control-api's notification channels (Slack, email through SMTP or SendGrid), built from its settings.

SLA escalations and the weekly review go out through the same channels. Sending is best effort and
after the store is written: a channel that fails is logged and reported, never undoes what was recorded.
The senders themselves are the shared ones of ``medic_runtime.notify``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from medic_runtime.notify import DeliveryError, Mail, Mailer, SendGridMailer, SlackPoster, SmtpMailer

from .settings import ControlSettings

__all__ = ["Delivery", "Notice", "Notifier", "slack_escape"]

log = logging.getLogger("medic.control.notify")


def slack_escape(text: str) -> str:
    """Escape mrkdwn control characters: attacker-influenced titles cannot mention @channel or inject links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True, slots=True)
class Notice:
    """One message in every channel's form."""

    subject: str
    text: str
    html: str | None = None
    slack_text: str | None = None
    slack_blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """Which channels took a notice and which refused it (with why)."""

    delivered: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Notifier:
    """The configured channels; none configured means notices are only logged."""

    slack: SlackPoster | None = None
    mailer: Mailer | None = None
    mail_from: str = ""
    mail_to: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: ControlSettings) -> Notifier:
        """The channels MEDIC_NOTIFY_* configure."""
        slack = None
        if settings.notify_slack_channel and settings.notify_slack_token:
            slack = SlackPoster(
                token=settings.notify_slack_token.get_secret_value(),
                channel=settings.notify_slack_channel,
                base_url=settings.notify_slack_base_url,
            )
        mailer: Mailer | None = None
        if settings.notify_email_provider == "sendgrid" and settings.notify_sendgrid_api_key:
            mailer = SendGridMailer(
                api_key=settings.notify_sendgrid_api_key.get_secret_value(), base_url=settings.notify_sendgrid_base_url
            )
        elif settings.notify_email_provider == "smtp" and settings.notify_smtp_host:
            password = settings.notify_smtp_password
            mailer = SmtpMailer(
                host=settings.notify_smtp_host,
                port=settings.notify_smtp_port,
                starttls=settings.notify_smtp_starttls,
                username=settings.notify_smtp_username,
                password=password.get_secret_value() if password else None,
            )
        return cls(slack=slack, mailer=mailer, mail_from=settings.notify_email_from or "", mail_to=settings.notify_email_to)

    @property
    def channels(self) -> tuple[str, ...]:
        """Names of the configured channels."""
        return tuple(name for name, on in (("slack", self.slack), ("email", self.mailer)) if on is not None)

    async def deliver(self, notice: Notice) -> Delivery:
        """Send ``notice`` to every channel; failures are collected, not raised."""
        delivered: list[str] = []
        failed: dict[str, str] = {}
        if self.slack is not None:
            try:
                await self.slack.post(text=notice.slack_text or slack_escape(notice.text), blocks=notice.slack_blocks)
                delivered.append("slack")
            except DeliveryError as exc:
                failed["slack"] = str(exc)
        if self.mailer is not None:
            mail = Mail(sender=self.mail_from, to=self.mail_to, subject=notice.subject, text=notice.text, html=notice.html)
            try:
                await self.mailer.send(mail)
                delivered.append("email")
            except DeliveryError as exc:
                failed["email"] = str(exc)
        if not delivered and not failed:
            log.warning("%s", notice.subject)  # no channel configured: the log is the channel
        for channel, reason in failed.items():
            log.warning("notification %r not delivered by %s: %s", notice.subject, channel, reason)
        return Delivery(delivered=tuple(delivered), failed=failed)
