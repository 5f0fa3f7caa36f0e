"""Subscribers and HTTP routes of the watcher: translate deliveries into Watcher calls, nothing more.

Push endpoints: Sentry webhooks, Vercel drains, and Sentry-compatible SDK ingest (a DSN
``http://<key>@<watcher-host>:8081/<project_id>`` makes an SDK post to ``/api/<project_id>/envelope/``
or ``/store/``; the key and project id pick one ``sentry_ingest`` source; answers follow Sentry's:
200 ``{"id": ...}``, 400 unreadable, 401/403 missing/unknown key, 413 too large, 429 with
``Retry-After`` over the key's rate or when the backlog is full; a 200 is sent once the events are
parsed and queued, not after detection, while webhooks, whose senders retry, wait for it).

Every push takes a slot in the push backlog before reading its body (a full backlog answers 429
with ``Retry-After``, mapped in :func:`backpressure_response`), parses and normalises its body on
the watcher's worker thread, and waits for its events to be stored and their issues emitted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from medic_contracts import ControlCommand, utcnow
from medic_runtime.http_errors import error_body

from .adapters.sources.registry import secret as _secret
from .adapters.sources.sentry import sentry_webhook_events, verify_sentry_signature
from .adapters.sources.vercel import parse_drain_body, verify_vercel_signature
from .config import SentryIngestSource, SentrySource, VercelSource
from .domain.admission import TokenBucket
from .domain.envelope import BodyTooLarge, EnvelopeError, decompress, parse_envelope, parse_store_body, sentry_key
from .domain.observed import ObservedEvent
from .pushqueue import Backpressure
from .worker import TargetWatch, Watcher

__all__ = ["IngestKey", "backpressure_response", "body_of", "ingest_keys", "ingest_routes", "routes"]


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


# Browser SDKs post cross-origin (as text/plain, so without a preflight) and read the answer.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After, X-Sentry-Rate-Limits"}


@dataclass(slots=True)
class IngestKey:
    """One DSN key of one ``sentry_ingest`` source, with its own rate limit."""

    watch: TargetWatch
    config: SentryIngestSource
    bucket: TokenBucket


def ingest_keys(watcher: Watcher) -> dict[tuple[str, str], IngestKey]:
    """(project id, key) → source, from every target's ``sentry_ingest`` sources (keys read from their variables).

    Raises ValueError (a start-up error) when two sources claim the same project id and key.
    """
    keys: dict[tuple[str, str], IngestKey] = {}
    for watch in watcher.targets.values():
        for config in watch.section.sources:
            if not isinstance(config, SentryIngestSource):
                continue
            for key in (k.strip() for k in (_secret(config.keys_env) or "").split(",")):
                if not key:
                    continue
                found = keys.get((config.project_id, key))
                if found is not None:
                    raise ValueError(
                        f"sentry_ingest sources {found.watch.target.name}/{found.config.name} and "
                        f"{watch.target.name}/{config.name} share project {config.project_id} and a key"
                    )
                keys[(config.project_id, key)] = IngestKey(watch, config, TokenBucket(config.events_per_s, config.burst))
    return keys


def _refuse_if_limited(key: IngestKey, count: int) -> None:
    admission = key.bucket.take(count, now=time.monotonic())
    if not admission.accepted:
        raise Backpressure(admission)


def ingest_routes(watcher: Watcher) -> APIRouter:
    """``POST /api/<project_id>/envelope/`` and ``/api/<project_id>/store/``."""
    router = APIRouter()
    keys = ingest_keys(watcher)

    def key_of(project_id: str, request: Request) -> IngestKey:
        key = sentry_key(request.headers.get("x-sentry-auth"), request.query_params.get("sentry_key"))
        if key is None:
            raise HTTPException(401, "missing sentry_key (X-Sentry-Auth header or sentry_key query parameter)", headers=CORS)
        found = keys.get((project_id, key))
        if found is None:
            raise HTTPException(403, "unknown project or key", headers=CORS)
        return found

    async def receive(project_id: str, request: Request, *, envelope: bool) -> Response:
        key = key_of(project_id, request)
        config, watch = key.config, key.watch
        _refuse_if_limited(key, 1)  # before the body: a limited sender costs no reading or parsing
        async with watcher.pushes.slot() as slot:
            raw = await body_of(request, config.max_body_bytes)
            encoding = request.headers.get("content-encoding")

            def read() -> tuple[list[ObservedEvent], str | None]:
                body = decompress(raw, encoding, limit=config.max_decompressed_bytes)
                if envelope:
                    parsed = parse_envelope(body)
                    events, event_id = parsed.events, parsed.event_id
                else:
                    events = [parse_store_body(body, limit=config.max_decompressed_bytes)]
                    event_id = None
                now = utcnow()
                service = watch.service_of(config)
                observed = [watch.normaliser.sentry_event(e, service=service, now=now) for e in events]
                first = next((o.source_event_id for o in observed if o.source_event_id), None)
                return observed, event_id or first

            try:
                observed, event_id = await watcher.offload(read)
            except BodyTooLarge as exc:
                raise HTTPException(413, str(exc), headers=CORS) from exc
            except EnvelopeError as exc:
                raise HTTPException(400, str(exc), headers=CORS) from exc
            if len(observed) > 1:
                _refuse_if_limited(key, len(observed) - 1)
            # Answered once taken, as Sentry's ingest does: SDKs send from the app's own request path and
            # must not wait for detection; the bounded backlog (429 when full) is what keeps this safe.
            await slot.submit(watch.target.name, config.name, observed, wait=False)
        body: dict[str, Any] = {"id": event_id} if event_id else {}
        return Response(content=json.dumps(body), media_type="application/json", headers=CORS)

    @router.post("/api/{project_id}/envelope/")
    async def envelope(project_id: str, request: Request) -> Response:
        return await receive(project_id, request, envelope=True)

    @router.post("/api/{project_id}/store/")
    async def store(project_id: str, request: Request) -> Response:
        return await receive(project_id, request, envelope=False)

    @router.options("/api/{project_id}/envelope/")
    @router.options("/api/{project_id}/store/")
    async def preflight(project_id: str) -> Response:
        return Response(
            status_code=204,
            headers=CORS
            | {
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "content-type, content-encoding, x-sentry-auth, sentry-trace, baggage",
            },
        )

    return router
