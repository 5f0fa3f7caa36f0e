"""The weekly digest: the review as a Slack message and an email, sent once a week (or on demand).

Issue titles are attacker-influenced: they are escaped for Slack mrkdwn and HTML and kept to one line.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medic_runtime import ServiceRuntime

from ..actions import service as audit
from ..notify import Delivery, Notice, Notifier, slack_escape
from ..settings import ControlSettings
from . import service
from .schemas import ReviewSent, WeeklyReview

__all__ = ["WeeklyDigest", "digest_notice"]

log = logging.getLogger("medic.control.review")

_MARK = {True: "✅", False: "❌", None: "·"}
_SENT_KEY = "review:last_sent_week"


def _one_line(text: str, limit: int = 120) -> str:
    return " ".join(text.split())[:limit]


def _period(review: WeeklyReview) -> str:
    return f"{review.since:%d %b} – {review.until:%d %b %Y}"


def digest_notice(review: WeeklyReview, *, dashboard_url: str | None = None) -> Notice:
    """The review in every channel's form: plain text, HTML, Slack Block Kit."""
    link = f"{dashboard_url.rstrip('/')}/dashboard/agent-control/review" if dashboard_url else None
    subject = f"[Medic] Weekly review {_period(review)}: {review.targets_met}/{review.targets_judged} targets met"
    lines = [f"Medic weekly review, {_period(review)}", ""]
    for m in review.metrics:
        target = f" (target {m.target}) {'met' if m.met else 'missed' if m.met is False else ''}".rstrip() if m.target else ""
        lines.append(f"- {m.label}: {m.display}{target}")
    lines += ["", f"P4 issues ({len(review.p4_issues)}, never auto-fixed: for you to decide):"]
    lines += [
        f"- {i.id} {_one_line(i.title)} — {i.occurrences} occurrence(s), {i.affected_users} user(s)"
        + (" [false positive]" if i.false_positive else "")
        for i in review.p4_issues
    ] or ["- none"]
    if link:
        lines += ["", link]
    text = "\n".join(lines)

    rows = "".join(
        f"<tr><td>{html.escape(m.label)}</td><td>{html.escape(m.display)}</td>"
        f"<td>{html.escape(m.target or '–')}</td><td>{_MARK[m.met]}</td></tr>"
        for m in review.metrics
    )
    p4 = "".join(
        f"<li><b>{html.escape(i.id)}</b> {html.escape(_one_line(i.title))} — {i.occurrences} occurrence(s)</li>"
        for i in review.p4_issues
    )
    body = (
        f"<h2>Medic weekly review, {_period(review)}</h2>"
        f"<table><tr><th>Figure</th><th>This week</th><th>Target</th><th></th></tr>{rows}</table>"
        f"<h3>P4 issues ({len(review.p4_issues)})</h3><ul>{p4 or '<li>none</li>'}</ul>"
        + (f'<p><a href="{html.escape(link)}">Open the review in Medic</a></p>' if link else "")
    )

    figures = "\n".join(
        f"{_MARK[m.met]} *{slack_escape(m.label)}*: {slack_escape(m.display)}"
        + (f" (target {slack_escape(m.target)})" if m.target else "")
        for m in review.metrics
    )
    p4_lines = "\n".join(
        f"• `{slack_escape(i.id)}` {slack_escape(_one_line(i.title, 80))} ({i.occurrences}×)" for i in review.p4_issues[:15]
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Medic weekly review, {_period(review)}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": figures[:2900]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": (f"*P4 issues ({len(review.p4_issues)})*\n" + (p4_lines or "none"))[:2900]},
        },
    ]
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open review"},
                        "url": link,
                        "action_id": "medic_review",
                    }
                ],
            }
        )
    slack_text = f"Medic weekly review {_period(review)}: {review.targets_met}/{review.targets_judged} targets met"
    return Notice(subject=subject, text=text, html=body, slack_text=slack_text, slack_blocks=blocks)


@dataclass(slots=True)
class WeeklyDigest:
    """Builds and delivers the weekly review; sends it once per ISO week at the configured day and hour."""

    runtime: ServiceRuntime
    notifier: Notifier
    clock: Callable[[], datetime]
    settings: ControlSettings

    async def send(self, *, until: datetime | None = None) -> ReviewSent:
        """Build the review of the week before ``until`` (default now) and deliver it to every channel."""
        end = until or self.clock()
        async with self.runtime.store.engine.connect() as conn:
            review = await service.weekly(conn, until=end)
        delivery: Delivery = await self.notifier.deliver(digest_notice(review, dashboard_url=self.settings.dashboard_url))
        return ReviewSent(
            since=review.since, until=review.until, delivered=list(delivery.delivered), failed=dict(delivery.failed)
        )

    async def send_if_due(self) -> ReviewSent | None:
        """Send this week's review if it is the configured weekday and hour and it was not sent yet."""
        now = self.clock()
        if now.weekday() != self.settings.review_weekday or now.hour < self.settings.review_hour_utc:
            return None
        year, week, _ = now.isocalendar()
        key = f"{year}-W{week:02d}"
        async with self.runtime.store.transaction() as conn:
            await audit.lock(conn)  # replicas share the store: one of them claims the week
            if await self.runtime.store.kv_get(_SENT_KEY, conn) == key:
                return None
            await self.runtime.store.kv_set(_SENT_KEY, key, conn)
        sent = await self.send(until=now)
        log.info("weekly review %s delivered to %s", key, ", ".join(sent.delivered) or "no channel")
        return sent
