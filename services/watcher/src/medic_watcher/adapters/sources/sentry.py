"""Sentry: poll unresolved issues and their events over REST; verify and read webhook deliveries.

REST (documented API, auth ``Bearer <token>``):
- ``GET /api/0/projects/{org}/{project}/issues/?query=is:unresolved&statsPeriod=24h`` (paginated
  by the ``Link`` header's ``cursor``), each issue with ``id``, ``lastSeen``, ``permalink``;
- ``GET /api/0/organizations/{org}/issues/{id}/events/?full=true`` (newest first, paginated).

Webhooks (integration platform): the body is signed with the client secret, HMAC-SHA256 in the
``Sentry-Hook-Signature`` header; ``Sentry-Hook-Resource`` is ``event_alert`` or ``error`` (the
full event in ``data.event`` / ``data.error``) or ``issue`` (metadata only: poll now).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from medic_contracts import Link

from ...config import SentrySource as SentryConfig
from ...domain.fields import parse_timestamp
from ...domain.normalize import Normaliser
from ...domain.observed import ObservedEvent
from .base import HttpSource, PollResult, SourceError

__all__ = ["SentryPoller", "sentry_webhook_events", "verify_sentry_signature"]

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next";\s*results="true";\s*cursor="([^"]+)"')


def verify_sentry_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """True when ``signature`` is the HMAC-SHA256 of ``body`` under ``secret``."""
    if not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip())


def sentry_webhook_events(
    resource: str | None, payload: Mapping[str, Any], *, normaliser: Normaliser, service: str, now: datetime
) -> tuple[list[ObservedEvent], bool]:
    """(events carried by a webhook delivery, whether the source should poll now)."""
    data = payload.get("data")
    if not isinstance(data, Mapping):
        return [], False
    for key in ("event", "error"):
        event = data.get(key)
        if isinstance(event, Mapping):
            links = (Link(title="Sentry event", url=str(event["web_url"])),) if isinstance(event.get("web_url"), str) else ()
            return [normaliser.sentry_event(event, service=service, now=now, links=links)], False
    return [], resource == "issue"


def _next_cursor(response: httpx.Response) -> str | None:
    match = _NEXT.search(response.headers.get("link", ""))
    return match.group(2) if match else None


class SentryPoller(HttpSource[SentryConfig]):
    """Polls a Sentry project; cursor: ``{"since": iso, "ids": [event ids at that instant]}``."""

    def base_url(self) -> str:
        """The configured ``api_url``."""
        return self.config.api_url

    async def _issues(self) -> list[Mapping[str, Any]]:
        issues: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(self.config.max_pages):
            params = {"query": "is:unresolved", "statsPeriod": "24h", **({"cursor": cursor} if cursor else {})}
            response = await self.request(
                "GET", f"/api/0/projects/{self.config.org}/{self.config.project}/issues/", params=params
            )
            page = response.json()
            if not isinstance(page, list):
                raise SourceError(f"sentry {self.name}: issues answer is not a list")
            issues.extend(i for i in page if isinstance(i, Mapping))
            cursor = _next_cursor(response)
            if cursor is None:
                break
        return issues

    async def poll(self, cursor: Any, *, now: datetime) -> PollResult:
        """Events of unresolved issues newer than the cursor (oldest first)."""
        state = cursor if isinstance(cursor, Mapping) else {}
        since = parse_timestamp(state.get("since"), default=now - timedelta(hours=1))
        seen_at_since = set(state.get("ids") or [])
        events: list[ObservedEvent] = []
        for issue in await self._issues():
            if parse_timestamp(issue.get("lastSeen"), default=now) < since:
                continue
            link = (Link(title="Sentry issue", url=str(issue["permalink"])),) if isinstance(issue.get("permalink"), str) else ()
            page_cursor: str | None = None
            for _ in range(self.config.max_pages):
                params = {"full": "true", **({"cursor": page_cursor} if page_cursor else {})}
                response = await self.request(
                    "GET", f"/api/0/organizations/{self.config.org}/issues/{issue.get('id')}/events/", params=params
                )
                page = response.json()
                if not isinstance(page, list):
                    raise SourceError(f"sentry {self.name}: events answer is not a list")
                older = False
                for raw in page:
                    if not isinstance(raw, Mapping):
                        continue
                    created = parse_timestamp(raw.get("dateCreated") or raw.get("timestamp"), default=now)
                    event_id = str(raw.get("eventID") or raw.get("id") or "")
                    if created < since or (created == since and event_id in seen_at_since):
                        older = True
                        continue
                    event = dict(raw)
                    event.setdefault("timestamp", raw.get("dateCreated"))
                    events.append(self.normaliser.sentry_event(event, service=self.service, now=now, links=link))
                page_cursor = _next_cursor(response)
                if older or page_cursor is None:
                    break
        if not events:
            return PollResult(cursor={"since": since.isoformat(), "ids": sorted(seen_at_since)})
        newest = max(e.timestamp for e in events)
        ids = {e.source_event_id or "" for e in events if e.timestamp == newest}
        if newest == since:
            ids |= seen_at_since
        events.sort(key=lambda e: e.timestamp)
        return PollResult(events=events, cursor={"since": newest.isoformat(), "ids": sorted(ids)})
