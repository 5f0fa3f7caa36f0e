"""Domain errors and the one place they become HTTP responses (no internals ever reach a client)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "Conflict",
    "ControlError",
    "ErrorBody",
    "Forbidden",
    "Gone",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unprocessable",
    "error_body",
    "error_responses",
    "install_error_handlers",
]

log = logging.getLogger("medic.control.errors")


class ControlError(Exception):
    """A request control-api refuses, with a status and a reason safe to show."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class Unauthorized(ControlError):
    """No valid credentials."""

    status, code = 401, "unauthorized"


class Forbidden(ControlError):
    """Authenticated, but not allowed."""

    status, code = 403, "forbidden"


class NotFound(ControlError):
    """No such resource."""

    status, code = 404, "not_found"


class Conflict(ControlError):
    """The resource is not in a state that allows this (decided, changed, stale version)."""

    status, code = 409, "conflict"


class Gone(ControlError):
    """The resource expired."""

    status, code = 410, "gone"


class Unprocessable(ControlError):
    """Well-formed but refused by a rule (e.g. the level-3 rule)."""

    status, code = 422, "unprocessable"


class RateLimited(ControlError):
    """Too many write requests."""

    status, code = 429, "rate_limited"


class ErrorDetail(BaseModel):
    """What went wrong, in words safe to show."""

    code: str = Field(description="Machine-readable error code.", examples=["forbidden"])
    message: str = Field(description="Human-readable reason.", examples=["operator role required"])
    field: str | None = Field(
        default=None,
        description="The first invalid field: a dotted path within the body, query or path; null when no field is at fault.",
        examples=["config.autonomy_level"],
    )
    fields: list[dict[str, Any]] | None = Field(
        default=None,
        description="Invalid fields (validation errors): location and message.",
        examples=[[{"loc": ["body", "rating"], "msg": "Input should be less than or equal to 5"}]],
    )


class ErrorBody(BaseModel):
    """Every error response's body."""

    error: ErrorDetail = Field(description="The error.")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI response entries for the given error statuses."""
    names = {
        400: "Bad request (malformed JSON)",
        401: "Missing or invalid token",
        403: "Role too low or action not allowed",
        404: "Not found",
        409: "Conflict with the current state",
        410: "Expired",
        413: "Request body too large",
        415: "Request body is not JSON",
        422: "Invalid input or refused by a rule",
        429: "Too many write requests",
        502: "A service Medic asked did not answer",
    }
    return {code: {"model": ErrorBody, "description": names.get(code, "Error")} for code in codes}


def _body(code: str, message: str, fields: list[dict[str, Any]] | None = None, field: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": message, "field": field}
    if fields is not None:
        detail["fields"] = fields
    return {"error": detail}


def error_body(code: str, message: str, *, field: str | None = None) -> dict[str, Any]:
    """The one error shape (``{"error": {"code", "message", "field"}}``), for middleware that answers itself."""
    return _body(code, message, field=field)


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
    """Map domain errors, validation errors, HTTP errors and anything unexpected to safe JSON bodies."""

    @app.exception_handler(ControlError)
    async def control_error(_request: Request, exc: ControlError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if malformed is not None:
            loc = malformed.get("loc", ())
            offset = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            line, column = _position(await request.body(), offset)
            reason = str((malformed.get("ctx") or {}).get("error", "invalid JSON"))[:200]
            message = f"malformed JSON at line {line}, column {column}: {reason}"
            return JSONResponse(_body("malformed_json", message), status_code=400)
        # Only location and message: the offending input is attacker-controlled and is not echoed.
        fields = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))[:300]} for e in errors[:20]]
        first = errors[0] if errors else {}
        name = _field_name(first.get("loc", ()))
        message = f"{name}: {str(first.get('msg', 'invalid'))[:300]}" if name else "request validation failed"
        return JSONResponse(_body("invalid_request", message, fields, field=name), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else "request failed"
        return JSONResponse(_body(f"http_{exc.status_code}", message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("internal", "internal error"), status_code=500)
