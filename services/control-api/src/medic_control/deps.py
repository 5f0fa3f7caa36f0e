"""FastAPI dependencies: the caller's principal and role, the store connection, the context."""

from __future__ import annotations

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
    if ctx.oidc is not None and not secret.startswith(tokens.TOKEN_PREFIX) and secret.count(".") == 2:
        return await ctx.oidc.check(secret)  # JWTs expire on their own schedule: not cached
    async with ctx.read_engine.connect() as conn:
        verdict = await tokens.check_token(conn, secret, now=now)
    if isinstance(verdict, Principal):
        ctx.tokens.put(secret, verdict)
    return verdict


async def refuse(ctx: ControlContext, refusal: AuthRefusal) -> None:
    """Audit a refused credential; a flood of them is audited at the write rate and logged beyond it."""
    if ctx.refusals.take(f"{refusal.reason.value}:{refusal.subject or '-'}") > 0:
        log.warning("credential refused (not audited: refusal flood): %s %s", refusal.via, refusal.reason.value)
        return
    async with ctx.runtime.store.transaction() as conn:
        await tokens.record_refusal(conn, refusal=refusal, at=ctx.clock())


async def authenticate_secret(ctx: ControlContext, secret: str) -> Principal | None:
    """The principal for an API token or (when OIDC is configured) a JWT; None (audited) when neither verifies."""
    verdict = await check_secret(ctx, secret)
    if isinstance(verdict, AuthRefusal):
        await refuse(ctx, verdict)
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
        raise Unauthorized("authentication required", headers={"WWW-Authenticate": "Bearer"})
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
            await refuse(ctx, AuthRefusal(RefusalReason.ROLE_TOO_LOW, principal.via, principal.identity, detail))
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
