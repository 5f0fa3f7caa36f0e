"""Notification channels: Slack (Block Kit via slack-sdk), email (SMTP or SendGrid) and the console."""

from __future__ import annotations

import logging
import os
from typing import Literal, Protocol

from medic_runtime.notify import DeliveryError, Mail, Mailer, SendGridMailer, SlackPoster, SmtpMailer

from ...config import ConsoleNotifier, EmailNotifier, NotifierSection, SlackNotifier
from ...domain.errors import ReleaseError
from ...domain.notice import ReleaseNotice

__all__ = ["ConsoleChannel", "EmailChannel", "Notifier", "SlackChannel", "build_notifiers", "mailer_for", "wants"]

log = logging.getLogger("medic.releaser.notify")


class Notifier(Protocol):
    """One channel people hear from."""

    name: str
    on: Literal["failures", "all"] | None

    async def send(self, notice: ReleaseNotice) -> None:
        """Deliver the notice; raise ReleaseError when the channel refused it."""
        ...


def wants(notifier: Notifier, notice: ReleaseNotice, default: Literal["failures", "all"]) -> bool:
    """True when ``notifier`` should hear about ``notice`` (failures only, or everything)."""
    mode = notifier.on or default
    return mode == "all" or notice.failure


class SlackChannel:
    """Posts Block Kit messages through the shared Slack poster (slack-sdk's AsyncWebClient)."""

    name = "slack"

    def __init__(self, cfg: SlackNotifier, *, token: str | None = None) -> None:
        self.on = cfg.on
        self.channel = cfg.channel
        secret = token if token is not None else os.environ.get(cfg.token_env, "")
        self.poster = SlackPoster(token=secret, channel=cfg.channel, base_url=cfg.base_url)

    async def send(self, notice: ReleaseNotice) -> None:
        """chat.postMessage with blocks and a plain-text fallback."""
        try:
            await self.poster.post(text=notice.slack_text(), blocks=notice.blocks())
        except DeliveryError as exc:
            raise ReleaseError(str(exc)) from exc


def mailer_for(cfg: EmailNotifier) -> Mailer:
    """The mailer an ``[[notifiers]] kind = "email"`` section names: SMTP or SendGrid (secrets from the environment)."""
    if cfg.provider == "sendgrid":
        return SendGridMailer(api_key=os.environ.get(cfg.api_key_env, ""), base_url=cfg.base_url)
    assert cfg.host is not None  # the section's validator requires it for smtp
    return SmtpMailer(
        host=cfg.host,
        port=cfg.port,
        starttls=cfg.starttls,
        username=os.environ.get(cfg.username_env, "") if cfg.username_env else None,
        password=os.environ.get(cfg.password_env, "") if cfg.password_env else None,
    )


class EmailChannel:
    """Sends a plain-text email through SMTP or SendGrid (the shared mailers)."""

    name = "email"

    def __init__(self, cfg: EmailNotifier, *, mailer: Mailer | None = None) -> None:
        self.cfg = cfg
        self.on = cfg.on
        self.mailer = mailer if mailer is not None else mailer_for(cfg)

    async def send(self, notice: ReleaseNotice) -> None:
        """One email per notice."""
        mail = Mail(sender=self.cfg.sender, to=self.cfg.to, subject=f"[Medic] {notice.headline}", text=notice.text())
        try:
            await self.mailer.send(mail)
        except DeliveryError as exc:
            raise ReleaseError(str(exc)) from exc


class ConsoleChannel:
    """Writes the notice to the releaser's log (the demo's channel)."""

    name = "console"

    def __init__(self, cfg: ConsoleNotifier | None = None) -> None:
        self.on = cfg.on if cfg else None

    async def send(self, notice: ReleaseNotice) -> None:
        """Log the notice's text."""
        log.warning("%s", notice.text()) if notice.failure else log.info("%s", notice.text())


def build_notifiers(sections: tuple[NotifierSection, ...]) -> list[Notifier]:
    """The channels a target's ``[[notifiers]]`` name (the console when none are configured)."""
    out: list[Notifier] = []
    for cfg in sections:
        if isinstance(cfg, SlackNotifier):
            out.append(SlackChannel(cfg))
        elif isinstance(cfg, EmailNotifier):
            out.append(EmailChannel(cfg))
        else:
            out.append(ConsoleChannel(cfg))
    return out or [ConsoleChannel()]
