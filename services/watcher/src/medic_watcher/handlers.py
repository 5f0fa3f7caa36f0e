"""Subscribers and HTTP routes of the watcher: translate deliveries into Watcher calls, nothing more.

Every push takes a slot in the push backlog before reading its body (a full backlog answers 429
with ``Retry-After``, mapped in :func:`backpressure_response`), parses and normalises its body on
the watcher's worker thread, and waits for its events to be stored and their issues emitted.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from medic_contracts import ControlCommand, utcnow
from medic_runtime.http_errors import error_body

from .adapters.sources.registry import secret as _secret
from .adapters.sources.sentry import sentry_webhook_events, verify_sentry_signature
from .adapters.sources.vercel import parse_drain_body, verify_vercel_signature
from .config import SentrySource, VercelSource
from .pushqueue import Backpressure
from .worker import TargetWatch, Watcher

__all__ = ["backpressure_response", "body_of", "routes"]


async def body_of(request: Request, limit: int) -> bytes:
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
        async with watcher.pushes.slot() as slot:
            body = await body_of(request, watcher.settings.max_webhook_bytes)
            if not verify_sentry_signature(body, request.headers.get("sentry-hook-signature"), secret):
                raise HTTPException(401, "bad or missing Sentry-Hook-Signature")

            def read() -> tuple[list[Any], bool]:
                try:
                    payload = json.loads(body)
                except ValueError as exc:
                    raise HTTPException(400, "body is not JSON") from exc
                if not isinstance(payload, dict):
                    raise HTTPException(400, "body is not a JSON object")
                return sentry_webhook_events(
                    request.headers.get("sentry-hook-resource"),
                    payload,
                    normaliser=watch.normaliser,
                    service=watch.service_of(config),
                    now=utcnow(),
                )

            events, poll_now = await watcher.offload(read)
            published = await slot.submit(target, source, events)
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
        async with watcher.pushes.slot() as slot:
            body = await body_of(request, config.max_body_bytes)
            if not verify_vercel_signature(body, request.headers.get("x-vercel-signature"), secret):
                raise HTTPException(401, "bad or missing x-vercel-signature")

            def read() -> list[Any]:
                try:
                    entries = parse_drain_body(body)
                except ValueError as exc:
                    raise HTTPException(400, str(exc)) from exc
                now = utcnow()
                return [watch.normaliser.vercel_entry(e, service=watch.service_of(config), now=now) for e in entries]

            events = await watcher.offload(read)
            published = await slot.submit(target, source, events)
        return Response(
            content=json.dumps({"accepted": len(events), "published": len(published)}),
            media_type="application/json",
            headers=headers,
        )

    @router.get("/sources")
    async def sources() -> dict[str, Any]:
        return watcher.status()

    return router


def backpressure_response(watcher: Watcher, request: Request, exc: Backpressure) -> JSONResponse:
    """429 with ``Retry-After`` (and Sentry's own rate-limit header, which the SDKs honour first)."""
    route = request.scope.get("route")
    endpoint = getattr(route, "path", "other")
    watcher.metrics.refused.labels(watcher.rt.service, endpoint, exc.admission.code.value).inc()
    seconds = str(exc.admission.retry_after_s)
    return JSONResponse(
        {
            **error_body(exc.admission.code.value, exc.admission.reason),
            "reason": exc.admission.code.value,
            "retry_after_s": exc.admission.retry_after_s,
        },
        status_code=429,
        headers={
            "Retry-After": seconds,
            "X-Sentry-Rate-Limits": f"{seconds}::key",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "Retry-After, X-Sentry-Rate-Limits",
        },
    )


async def on_scan(watcher: Watcher, command: ControlCommand) -> None:
    """ControlCommand scan: poll every source now (of one target or all)."""
    if command.target is None or command.target in watcher.targets:
        watcher.scan_now()
