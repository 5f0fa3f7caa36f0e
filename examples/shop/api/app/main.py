"""Shop API: practice review statistics and patient appointments."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from app import data
from app.logs import JsonLog, LogContext, error_fields
from app.metrics import Metrics
from app.reporting import sentry_reporter


def create_app(context: LogContext | None = None, *, sentry_dsn: str | None = None) -> FastAPI:
    """The API with its request log, metrics and error reports (SHOP_* and SENTRY_DSN variables by default)."""
    log = JsonLog(context or LogContext.from_env())
    metrics = Metrics()
    report = sentry_reporter(log.context, sentry_dsn if sentry_dsn is not None else os.environ.get("SENTRY_DSN"))
    api = FastAPI(title="shop-api")

    @api.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        error: BaseException | None = None
        try:
            response = await call_next(request)
        except Exception as exc:
            # unhandled: a 500 without internals for the client, the traceback for the log
            error = exc
            response = JSONResponse({"error": "Internal Server Error"}, status_code=500)
        seconds = time.perf_counter() - started
        route_obj = request.scope.get("route")
        route = getattr(route_obj, "path", "unmatched")
        if route != "/metrics":
            metrics.observe(route, request.method, response.status_code, seconds)
        fields: dict[str, Any] = {
            "route": route,
            "path": request.url.path,
            "method": request.method,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "user_id": request.headers.get("x-user-id"),
            "request_id": request_id,
        }
        if error is not None:
            log.write("error", f"Unhandled error in {request.method} {route}", error=error_fields(error), **fields)
            if report is not None:
                report(error, route, fields["user_id"], request_id)
        elif route not in ("/health", "/metrics"):
            log.write("error" if response.status_code >= 500 else "info", "request", **fields)
        response.headers["x-request-id"] = request_id
        return response

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "release": log.context.release, "commit": log.context.commit}

    @api.get("/metrics", response_class=PlainTextResponse)
    def prometheus() -> str:
        return metrics.render()

    @api.get("/practices/{practice_id}/stats")
    def practice_stats(practice_id: str) -> dict[str, Any]:
        if practice_id not in data.KNOWN_PRACTICES:
            raise HTTPException(status_code=404, detail="Practice not found")
        stars = [r.stars for r in data.reviews_for(practice_id)]
        average = round(sum(stars) / len(stars), 2) if stars else None
        return {"practice_id": practice_id, "reviews": len(stars), "average_stars": average}

    @api.get("/patients/{patient_id}/appointments/next")
    def next_appointment(patient_id: str, now: datetime | None = Query(default=None)) -> dict[str, Any]:
        moment = now or datetime.now(UTC)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)  # appointment times are stored as naive UTC
        upcoming = sorted(
            (a for a in data.appointments_for(patient_id) if a.starts_at > moment and not a.cancelled),
            key=lambda a: a.starts_at,
        )
        if not upcoming:
            return {"patient_id": patient_id, "next": None}
        soonest = upcoming[0]
        return {
            "patient_id": patient_id,
            "next": {"id": soonest.id, "practice_id": soonest.practice_id, "starts_at": soonest.starts_at.isoformat()},
        }

    return api


app = create_app()
