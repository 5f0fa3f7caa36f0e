"""Subscribers and HTTP routes of the watcher: translate deliveries into Watcher calls, nothing more."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from medic_contracts import ControlCommand, utcnow

from .adapters.sources.sentry import sentry_webhook_events, verify_sentry_signature
from .adapters.sources.vercel import parse_drain_body, verify_vercel_signature
from .config import SentrySource, VercelSource
from .service import TargetWatch, Watcher, _secret

__all__ = ["routes"]


async def _body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
    return bytes(body)


def _watch(watcher: Watcher, target: str) -> TargetWatch:
    watch = watcher.targets.get(target)
    if watch is None:
        raise HTTPException(404, f"unknown target {target!r}")
    return watch


def routes(watcher: Watcher) -> APIRouter:
    """Push endpoints (Sentry webhooks, Vercel drains) and the sources' status."""
    router = APIRouter()

    @router.post("/webhooks/sentry/{target}/{source}")
    async def sentry_webhook(target: str, source: str, request: Request) -> dict[str, Any]:
        watch = _watch(watcher, target)
        config = next((s for s in watch.section.sources if s.name == source and isinstance(s, SentrySource)), None)
        if config is None:
            raise HTTPException(404, f"no sentry source {source!r} in {target!r}")
        secret = _secret(config.webhook_secret_env)
        if not secret:
            raise HTTPException(403, "webhook secret not configured for this source")
        body = await _body(request, watcher.settings.max_webhook_bytes)
        if not verify_sentry_signature(body, request.headers.get("sentry-hook-signature"), secret):
            raise HTTPException(401, "bad or missing Sentry-Hook-Signature")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise HTTPException(400, "body is not JSON") from exc
        if not isinstance(payload, dict):
            raise HTTPException(400, "body is not a JSON object")
        events, poll_now = sentry_webhook_events(
            request.headers.get("sentry-hook-resource"),
            payload,
            normaliser=watch.normaliser,
            service=watch.service_of(config),
            now=utcnow(),
        )
        published = await watcher.push(watch, events, source=source) if events else []
        if poll_now:
            watcher.scan_now()
        return {"accepted": len(events), "published": len(published), "poll": poll_now}

    @router.api_route("/webhooks/vercel/{target}/{source}", methods=["POST", "GET", "HEAD"])
    async def vercel_drain(target: str, source: str, request: Request) -> Response:
        watch = _watch(watcher, target)
        config = next((s for s in watch.section.sources if s.name == source and isinstance(s, VercelSource)), None)
        if config is None:
            raise HTTPException(404, f"no vercel source {source!r} in {target!r}")
        verify = _secret(config.verify_token_env)
        headers = {"x-vercel-verify": verify} if verify else {}
        if request.method != "POST":
            return Response(status_code=200, headers=headers)
        secret = _secret(config.drain_secret_env)
        if not secret:
            raise HTTPException(403, "drain secret not configured for this source")
        body = await _body(request, config.max_body_bytes)
        if not verify_vercel_signature(body, request.headers.get("x-vercel-signature"), secret):
            raise HTTPException(401, "bad or missing x-vercel-signature")
        try:
            entries = parse_drain_body(body)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        now = utcnow()
        events = [watch.normaliser.vercel_entry(e, service=watch.service_of(config), now=now) for e in entries]
        published = await watcher.push(watch, events, source=source)
        return Response(
            content=json.dumps({"accepted": len(events), "published": len(published)}),
            media_type="application/json",
            headers=headers,
        )

    @router.get("/sources")
    async def sources() -> dict[str, Any]:
        return json.loads(json.dumps(watcher.status(), default=str))  # type: ignore[no-any-return]

    return router


async def on_scan(watcher: Watcher, command: ControlCommand) -> None:
    """ControlCommand scan: poll every source now (of one target or all)."""
    if command.target is None or command.target in watcher.targets:
        watcher.scan_now()
