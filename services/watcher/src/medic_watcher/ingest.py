"""Sentry-compatible ingest: the official SDKs send events straight to the watcher.

A DSN ``http://<key>@<watcher-host>:8081/<project_id>`` makes an SDK post to
``/api/<project_id>/envelope/`` (or ``/store/``). The key (``X-Sentry-Auth`` or ``?sentry_key=``)
and the project id pick one ``sentry_ingest`` source of one target; its events then take the
same path as polled ones (normalise, redact, group, detect). Answers follow Sentry's: 200
``{"id": ...}``, 400 for an unreadable body, 401/403 for a missing/unknown key, 413 over the size
limit, 429 with ``Retry-After`` over the key's rate or when the push backlog is full. A 200 is
sent once the events are parsed and taken into the backlog, not after detection (webhooks, whose
senders retry, wait for it instead).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from medic_contracts import utcnow

from .adapters.sources.registry import secret as _secret
from .config import SentryIngestSource
from .domain.admission import TokenBucket
from .domain.envelope import BodyTooLarge, EnvelopeError, decompress, parse_envelope, parse_store_body, sentry_key
from .domain.observed import ObservedEvent
from .handlers import body_of
from .pushqueue import Backpressure
from .worker import TargetWatch, Watcher

__all__ = ["IngestKey", "ingest_keys", "ingest_routes"]

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
