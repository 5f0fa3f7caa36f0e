"""One error shape for every Medic service's HTTP API: ``{"error": {"code", "message", "field"}}``.

Installed by the runtime on each service's app (control-api adds its domain errors on top): request
validation (422 naming the first invalid field, 400 for malformed JSON with its line and column), HTTP
errors raised by routes, and anything unexpected (a generic 500; the client never sees internals).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["error_body", "install_error_handlers"]

log = logging.getLogger("medic.http")


def error_body(
    code: str, message: str, *, field: str | None = None, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The one error shape; ``fields`` lists every invalid field of a validation error."""
    detail: dict[str, Any] = {"code": code, "message": message, "field": field}
    if fields is not None:
        detail["fields"] = fields
    return {"error": detail}


def _field_name(loc: Sequence[Any]) -> str | None:
    """``body.config.level`` → ``config.level``; ``query.limit`` → ``limit``; None for the body as a whole."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or None


def _position(body: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset into a JSON body."""
    text = body.decode("utf-8", "replace")[: max(offset, 0)]
    line = text.count("\n") + 1
    return line, offset - (text.rfind("\n") + 1) + 1


def install_error_handlers(app: FastAPI) -> None:
    """Map validation errors, HTTP errors and anything unexpected to the one error shape."""

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if malformed is not None:
            loc = malformed.get("loc", ())
            offset = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            line, column = _position(await request.body(), offset)
            reason = str((malformed.get("ctx") or {}).get("error", "invalid JSON"))[:200]
            return JSONResponse(error_body("malformed_json", f"malformed JSON at line {line}, column {column}: {reason}"), 400)
        # Only location and message: the offending input is attacker-controlled and is not echoed.
        fields = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))[:300]} for e in errors[:20]]
        first = errors[0] if errors else {}
        name = _field_name(first.get("loc", ()))
        message = f"{name}: {str(first.get('msg', 'invalid'))[:300]}" if name else "request validation failed"
        return JSONResponse(error_body("invalid_request", message, field=name, fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else "request failed"
        return JSONResponse(error_body(f"http_{exc.status_code}", message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "internal error"), status_code=500)
