"""Domain errors and the one place they become HTTP responses (no internals ever reach a client)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from medic_runtime.http_errors import error_body
from medic_runtime.http_errors import install_error_handlers as install_runtime_handlers

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


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to safe JSON bodies, beside the runtime's validation, HTTP and unexpected-error handlers."""
    install_runtime_handlers(app)

    @app.exception_handler(ControlError)
    async def control_error(_request: Request, exc: ControlError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)
