"""POST/GET /tokens, DELETE /tokens/{id}: API tokens (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import new_event_id, utcnow

from ..actions import service as audit
from ..config.service import lock_audit
from ..deps import Admin, Ctx, ReadConn, Viewer
from ..errors import error_responses
from ..pagination import Page
from . import service
from .schemas import Principal, Role, TokenCreate, TokenCreated, TokenInfo

router = APIRouter(tags=["auth"], responses=error_responses(401, 403, 422))


class WhoAmI(BaseModel):
    """The caller's identity and role."""

    identity: str = Field(description="Token name or OIDC identity.", examples=["alice"])
    role: str = Field(description="viewer, operator or admin.", examples=["operator"])
    via: str = Field(description="token, oidc or session.", examples=["token"])


async def _audit_token(
    conn: AsyncConnection, principal: Principal, *, action: str, summary: str, details: dict[str, Any]
) -> None:
    """Audit a change to the tokens, made by ``principal`` now (the caller holds the audit lock)."""
    record = audit.AuditRecord(
        event_id=new_event_id(),
        event_type="token",
        issue_id=None,
        occurred_at=utcnow(),
        service="control-api",
        actor=principal.identity,
        action=action,
        status="succeeded",
        summary=summary,
        details=details,
    )
    await audit.append(conn, [record])


@router.get("/whoami", response_model=WhoAmI, summary="Who the token belongs to")
async def whoami(principal: Viewer) -> WhoAmI:
    """The caller's identity, role and how they authenticated."""
    return WhoAmI(identity=principal.identity, role=principal.role.label, via=principal.via)


@router.post(
    "/tokens", response_model=TokenCreated, status_code=201, summary="Issue a token", responses=error_responses(409, 429)
)
async def create_token(body: TokenCreate, ctx: Ctx, principal: Admin) -> TokenCreated:
    """Issue a token; its secret is in this response only."""
    async with ctx.runtime.transaction() as tx:
        await lock_audit(tx)
        created = await service.create_token(
            tx.conn, name=body.name, role=Role.parse(body.role), created_by=principal.identity, expires_at=body.expires_at
        )
        await _audit_token(
            tx.conn,
            principal,
            action="token.created",
            summary=f"{principal.identity} issued a token for {body.name} (role {body.role})",
            details={"token_id": created.id, "name": body.name, "role": body.role},
        )
    return created


@router.get("/tokens", response_model=Page[TokenInfo], summary="Tokens (metadata only)")
async def list_tokens(
    conn: ReadConn,
    _p: Admin,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many per page.")] = 100,
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None,
) -> Page[TokenInfo]:
    """Tokens, newest first, without their secrets."""
    return await service.list_tokens(conn, limit=limit, cursor=cursor)


@router.delete("/tokens/{token_id}", response_model=TokenInfo, summary="Revoke a token", responses=error_responses(404, 429))
async def revoke_token(
    token_id: Annotated[str, Path(min_length=1, max_length=32, description="Token id.")], ctx: Ctx, principal: Admin
) -> TokenInfo:
    """Revoke a token at once (the in-memory token cache is cleared)."""
    async with ctx.runtime.transaction() as tx:
        await lock_audit(tx)
        info = await service.revoke_token(tx.conn, token_id=token_id)
        await _audit_token(
            tx.conn,
            principal,
            action="token.revoked",
            summary=f"{principal.identity} revoked the token of {info.name}",
            details={"token_id": info.id, "name": info.name},
        )
    ctx.tokens.clear()
    return info
