"""API tokens: issued as random secrets, stored only as their sha256, looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import new_event_id, utcnow

from ..actions import service as audit
from ..errors import Conflict, NotFound
from ..pagination import Page, decode_cursor, encode_cursor
from .models import ApiToken
from .schemas import AuthRefusal, Principal, RefusalReason, Role, TokenCreated, TokenInfo

__all__ = [
    "TOKEN_PREFIX",
    "TokenCache",
    "authenticate",
    "check_token",
    "create_token",
    "ensure_token",
    "generate_token",
    "hash_token",
    "list_tokens",
    "record_refusal",
    "revoke_token",
]

#: Every API token starts with this, so it is easy to spot in a leaked log (and not a JWT).
TOKEN_PREFIX = "mdc_"  # noqa: S105 - a prefix, not a secret


def generate_token() -> str:
    """A new random token secret (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: sha256 hex (the secret has 256 bits, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: ApiToken | object) -> TokenInfo:
    return TokenInfo.model_validate(row, from_attributes=True)


async def create_token(
    conn: AsyncConnection,
    *,
    name: str,
    role: Role,
    created_by: str,
    expires_at: datetime | None = None,
    secret: str | None = None,
) -> TokenCreated:
    """Issue a token for ``name`` with ``role``; the secret is returned once and stored only hashed."""
    if (await conn.execute(select(ApiToken.id).where(ApiToken.name == name))).first():
        raise Conflict(f"a token named {name!r} already exists")
    secret = secret or generate_token()
    row = {
        "id": uuid.uuid4().hex,
        "name": name,
        "role": role.label,
        "token_hash": hash_token(secret),
        "prefix": secret[:10],
        "created_at": utcnow(),
        "created_by": created_by,
        "expires_at": expires_at,
        "revoked_at": None,
    }
    await conn.execute(insert(ApiToken).values(**row))
    return TokenCreated.model_validate({"token": secret, **{k: v for k, v in row.items() if k != "token_hash"}})


async def ensure_token(conn: AsyncConnection, *, name: str, role: Role, secret: str) -> bool:
    """Create the token ``secret`` under ``name`` unless that secret already exists; True when created."""
    if (await conn.execute(select(ApiToken.id).where(ApiToken.token_hash == hash_token(secret)))).first():
        return False
    taken = (await conn.execute(select(ApiToken.id).where(ApiToken.name == name))).first()
    await create_token(
        conn, name=name if not taken else f"{name}-{uuid.uuid4().hex[:6]}", role=role, created_by="bootstrap", secret=secret
    )
    return True


async def check_token(conn: AsyncConnection, secret: str, *, now: datetime | None = None) -> Principal | AuthRefusal:
    """The principal a token secret stands for, or why it is refused (malformed, unknown, revoked, expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return AuthRefusal(RefusalReason.MALFORMED, "token")
    row = (
        await conn.execute(
            select(ApiToken.name, ApiToken.role, ApiToken.expires_at, ApiToken.revoked_at).where(
                ApiToken.token_hash == hash_token(secret)
            )
        )
    ).first()
    if row is None:
        return AuthRefusal(RefusalReason.UNKNOWN_TOKEN, "token")
    if row.revoked_at is not None:
        return AuthRefusal(RefusalReason.REVOKED_TOKEN, "token", row.name, f"revoked at {row.revoked_at.isoformat()}")
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return AuthRefusal(RefusalReason.EXPIRED_TOKEN, "token", row.name, f"expired at {row.expires_at.isoformat()}")
    return Principal(identity=row.name, role=Role.parse(row.role), via="token", expires_at=row.expires_at)


async def authenticate(conn: AsyncConnection, secret: str, *, now: datetime | None = None) -> Principal | None:
    """The principal a token secret stands for, or None (unknown, revoked or expired)."""
    verdict = await check_token(conn, secret, now=now)
    return verdict if isinstance(verdict, Principal) else None


async def record_refusal(conn: AsyncConnection, *, refusal: AuthRefusal, at: datetime) -> None:
    """Audit a refused credential (``auth.refused``) in ``conn``'s transaction."""
    who = refusal.subject or "anonymous"
    await audit.lock(conn)
    await audit.append(
        conn,
        [
            audit.AuditRecord(
                event_id=new_event_id(),
                event_type="auth",
                issue_id=None,
                occurred_at=at,
                service="control-api",
                actor=who,
                action="auth.refused",
                status="refused",
                summary=f"{refusal.via} credential of {who} refused: {refusal.reason.value}",
                reasoning=refusal.detail or None,
                details={"reason": refusal.reason.value, "via": refusal.via, "subject": refusal.subject},
            )
        ],
    )


async def list_tokens(conn: AsyncConnection, *, limit: int = 100, cursor: str | None = None) -> Page[TokenInfo]:
    """Tokens' metadata, newest first, a page at a time."""
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if cursor:
        at, key = decode_cursor(cursor)
        stmt = stmt.where(or_(ApiToken.created_at < at, and_(ApiToken.created_at == at, ApiToken.id < key)))
    rows = (await conn.execute(stmt.limit(limit + 1))).all()
    items = [_info(r) for r in rows[:limit]]
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page[TokenInfo](items=items, next_cursor=next_cursor)


async def revoke_token(conn: AsyncConnection, *, token_id: str) -> TokenInfo:
    """Revoke a token by id (idempotent)."""
    await conn.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    row = (await conn.execute(select(ApiToken).where(ApiToken.id == token_id))).first()
    if row is None:
        raise NotFound("no such token")
    return _info(row)


@dataclass(slots=True)
class TokenCache:
    """Recently verified token hashes → principal, so reads do not hit the store on every request."""

    ttl_s: float
    entries: dict[str, tuple[float, Principal]]

    @classmethod
    def create(cls, ttl_s: float) -> TokenCache:
        """An empty cache."""
        return cls(ttl_s=ttl_s, entries={})

    def get(self, secret: str, *, now: datetime) -> Principal | None:
        """The cached principal, if still fresh and its token not expired at ``now``."""
        key = hash_token(secret)
        hit = self.entries.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl_s:
            return None
        if hit[1].expires_at is not None and hit[1].expires_at <= now:
            del self.entries[key]  # expired while cached: the store decides (and the refusal is audited)
            return None
        return hit[1]

    def put(self, secret: str, principal: Principal) -> None:
        """Remember a verified token."""
        if len(self.entries) > 10_000:
            self.entries.clear()
        self.entries[hash_token(secret)] = (time.monotonic(), principal)

    def clear(self) -> None:
        """Forget everything (after a revocation)."""
        self.entries.clear()
