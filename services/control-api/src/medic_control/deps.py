"""FastAPI dependencies: the caller's principal and role, the store connection, the context."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from .auth import service as tokens
from .auth.schemas import AuthRefusal, Principal, RefusalReason, Role
from .context import ControlContext, get_context
from .errors import Forbidden, RateLimited, Unauthorized

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Admin",
    "Ctx",
    "Operator",
    "ReadConn",
    "Viewer",
    "authenticate_secret",
    "check_secret",
    "current_principal",
]

#: The dashboard's session cookie (it carries the API token; HttpOnly, SameSite=Strict).
SESSION_COOKIE = "medic_session"
#: Writes authenticated by the cookie must carry this header: a cross-site form cannot set it.
CSRF_HEADER = "x-medic-csrf"
_SAFE = {"GET", "HEAD", "OPTIONS"}

Ctx = Annotated[ControlContext, Depends(get_context)]

log = logging.getLogger("medic.control.auth")


async def check_secret(ctx: ControlContext, secret: str) -> Principal | AuthRefusal:
    """The principal for an API token or (when OIDC is configured) a JWT, or why it is refused."""
    now = ctx.clock()
    cached = ctx.tokens.get(secret, now=now)
    if cached is not None:
        return cached
    if not secret.startswith(tokens.TOKEN_PREFIX):
        if ctx.oidc is not None and secret.count(".") == 2:
            return await ctx.oidc.check(secret)  # JWTs expire on their own schedule: not cached
        return AuthRefusal(RefusalReason.MALFORMED, "token")  # neither kind: no store round trip
    async with ctx.read_engine.connect() as conn:
        verdict = await tokens.check_token(conn, secret, now=now)
    if isinstance(verdict, Principal):
        ctx.tokens.put(secret, verdict)
    return verdict


def refuse(ctx: ControlContext, refusal: AuthRefusal) -> None:
    """Audit a refused credential, beside the request; a flood of them is audited at the write rate, logged beyond it.

    The write runs as its own task: the refused request may hold the store's only SQLite connection
    (a read route resolves its connection before its role check), which its audit write would wait on.
    """
    if ctx.refusals.take(f"{refusal.reason.value}:{refusal.subject or '-'}") > 0:
        log.warning("credential refused (not audited: refusal flood): %s %s", refusal.via, refusal.reason.value)
        return
    at = ctx.clock()

    async def record() -> None:
        async with ctx.runtime.store.transaction() as conn:
            await tokens.record_refusal(conn, refusal=refusal, at=at)

    task = asyncio.get_running_loop().create_task(record(), name="audit-refusal")
    ctx.background.add(task)
    task.add_done_callback(_finished(ctx))


def _finished(ctx: ControlContext) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        ctx.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a refused credential could not be audited", exc_info=task.exception())

    return done


async def authenticate_secret(ctx: ControlContext, secret: str) -> Principal | None:
    """The principal for an API token or (when OIDC is configured) a JWT; None (audited) when neither verifies."""
    verdict = await check_secret(ctx, secret)
    if isinstance(verdict, AuthRefusal):
        refuse(ctx, verdict)
        return None
    return verdict


async def current_principal(request: Request, ctx: Ctx) -> Principal:
    """Who is calling: a bearer token (API token or OIDC JWT) or the dashboard's session cookie."""
    header = request.headers.get("authorization")
    via_cookie = False
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("expected 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
        secret = secret.strip()
    else:
        secret = request.cookies.get(SESSION_COOKIE, "")
        via_cookie = True
    if not secret:
        raise Unauthorized(
            "authentication required: send 'Authorization: Bearer <token>' (the medic CLI reads MEDIC_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await authenticate_secret(ctx, secret)
    if principal is None:
        raise Unauthorized("invalid or expired token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if via_cookie and request.method not in _SAFE and request.headers.get(CSRF_HEADER) != "1":
        raise Forbidden(f"cookie-authenticated writes need the {CSRF_HEADER} header")
    return principal


async def _principal(request: Request) -> Principal:
    return await current_principal(request, request.app.state.control)


async def _read_conn(ctx: Ctx, _principal: Annotated[Principal, Depends(_principal)]) -> AsyncIterator[AsyncConnection]:
    # Authentication runs first: on SQLite the store has one pooled connection, and token lookup needs it.
    async with ctx.read_engine.connect() as conn:
        yield conn


ReadConn = Annotated[AsyncConnection, Depends(_read_conn)]


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller must hold ``role``; writes also pass the per-client rate limit."""

    # One dependency, not three (context, principal, role): FastAPI's cost is per dependency solved.
    async def dependency(request: Request) -> Principal:
        ctx: ControlContext = request.app.state.control
        principal = await current_principal(request, ctx)
        if not principal.can(role):
            detail = f"{principal.role.label} called {request.method} {request.url.path}, {role.label} required"
            refuse(ctx, AuthRefusal(RefusalReason.ROLE_TOO_LOW, principal.via, principal.identity, detail))
            raise Forbidden(f"{role.label} role required")
        if request.method not in _SAFE:
            wait = ctx.limiter.take(principal.identity)
            if wait > 0:
                raise RateLimited("too many write requests", headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
