"""Notification channels: Slack (Block Kit via slack-sdk), email (SMTP) and the console."""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Literal, Protocol

from ...config import ConsoleNotifier, EmailNotifier, NotifierSection, SlackNotifier
from ...domain.errors import ReleaseError
from ...domain.notice import ReleaseNotice

__all__ = ["ConsoleChannel", "EmailChannel", "Notifier", "SlackChannel", "build_notifiers", "wants"]

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
    """Posts Block Kit messages with slack-sdk's AsyncWebClient."""

    name = "slack"

    def __init__(self, cfg: SlackNotifier, *, token: str | None = None) -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        self.on = cfg.on
        self.channel = cfg.channel
        base = cfg.base_url if cfg.base_url.endswith("/") else cfg.base_url + "/"
        self.client = AsyncWebClient(token=token if token is not None else os.environ.get(cfg.token_env, ""), base_url=base)

    async def send(self, notice: ReleaseNotice) -> None:
        """chat.postMessage with blocks and a plain-text fallback."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            await self.client.chat_postMessage(channel=self.channel, text=notice.slack_text(), blocks=notice.blocks())
        except SlackApiError as exc:
            raise ReleaseError(f"Slack refused the message: {exc.response.get('error', 'unknown error')}") from exc
        except (SlackClientError, OSError) as exc:
            raise ReleaseError(f"Slack unreachable: {type(exc).__name__}") from exc


class EmailChannel:
    """Sends a plain-text email through SMTP (in a thread: smtplib blocks)."""

    name = "email"

    def __init__(self, cfg: EmailNotifier) -> None:
        self.cfg = cfg
        self.on = cfg.on

    def _send(self, message: EmailMessage) -> None:
        cfg = self.cfg
        with smtplib.SMTP(cfg.host, cfg.port, timeout=15) as smtp:
            if cfg.starttls:
                smtp.starttls()
            if cfg.username_env and cfg.password_env:
                smtp.login(os.environ.get(cfg.username_env, ""), os.environ.get(cfg.password_env, ""))
            smtp.send_message(message)

    async def send(self, notice: ReleaseNotice) -> None:
        """One email per notice."""
        message = EmailMessage()
        message["Subject"] = f"[Medic] {notice.headline}"[:200]
        message["From"] = self.cfg.sender
        message["To"] = ", ".join(self.cfg.to)
        message.set_content(notice.text())
        try:
            await asyncio.to_thread(self._send, message)
        except (smtplib.SMTPException, OSError) as exc:
            raise ReleaseError(f"SMTP delivery failed: {type(exc).__name__}: {exc}") from exc


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
