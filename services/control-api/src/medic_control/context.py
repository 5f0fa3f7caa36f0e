"""What every request handler of control-api reaches: settings, runtime, token cache, limiter, OIDC, channels, clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from medic_contracts import utcnow
from medic_runtime import ServiceRuntime

from .auth.oidc import OidcVerifier
from .auth.ratelimit import WriteLimiter
from .auth.service import TokenCache
from .notify import Notifier
from .settings import ControlSettings

__all__ = ["ControlContext", "get_context"]


@dataclass(slots=True)
class ControlContext:
    """Per-process state of control-api (built once in ``app.build``)."""

    settings: ControlSettings
    runtime: ServiceRuntime
    tokens: TokenCache
    limiter: WriteLimiter
    refusals: WriteLimiter  # how many refused credentials are audited per reason and subject
    oidc: OidcVerifier | None
    read_engine: AsyncEngine
    notifier: Notifier = field(default_factory=Notifier)  # escalations and the weekly review
    clock: Callable[[], datetime] = utcnow  # deadlines and review weeks (tests fix it)
    #: PostgreSQL only, opened at start: a plain asyncpg pool for the hottest read (the issue list),
    #: which skips the ORM layer's per-statement and per-value work. None on SQLite and before start.
    read_pool: asyncpg.Pool | None = None
    #: Audit writes of refused credentials still running (kept referenced until done; awaited at stop).
    background: set[asyncio.Task[None]] = field(default_factory=set)
    #: Signs audit checkpoints; loaded (or generated) at start from ``settings.resolved_audit_key_file()``.
    audit_key: Ed25519PrivateKey | None = None

    async def open_read_pool(self) -> None:
        """Open :attr:`read_pool` on PostgreSQL (a no-op on SQLite)."""
        store = self.runtime.store
        if store.dialect != "postgresql" or self.read_pool is not None:
            return
        dsn = make_url(store.url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.read_pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, reset=_reset_read)

    async def close_read_pool(self) -> None:
        """Close :attr:`read_pool` (at shutdown)."""
        pool, self.read_pool = self.read_pool, None
        if pool is not None:
            await pool.close()

    @classmethod
    def create(
        cls,
        settings: ControlSettings,
        runtime: ServiceRuntime,
        *,
        notifier: Notifier | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> ControlContext:
        """The context for one control-api process."""
        oidc = None
        if settings.oidc_enabled:
            assert settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url
            oidc = OidcVerifier(
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                jwks_url=settings.oidc_jwks_url,
                role_claim=settings.oidc_role_claim,
                role_map=settings.oidc_role_map,
                identity_claim=settings.oidc_identity_claim,
            )
        return cls(
            settings=settings,
            runtime=runtime,
            tokens=TokenCache.create(settings.token_cache_s),
            limiter=WriteLimiter(settings.write_rate_per_minute, settings.write_burst),
            refusals=WriteLimiter(settings.write_rate_per_minute, settings.write_burst),
            oidc=oidc,
            read_engine=_read_engine(runtime),
            notifier=notifier if notifier is not None else Notifier.from_settings(settings),
            clock=clock or utcnow,
        )


async def _reset_read(conn: asyncpg.Connection) -> None:
    """Before a read connection goes back to the pool: roll back if a transaction was left open, nothing else.

    asyncpg's default reset is a round trip per release (``RESET ALL``, ``UNLISTEN *``, …) for session
    state the reads never set: each is one prepared SELECT outside a transaction.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _read_engine(runtime: ServiceRuntime) -> AsyncEngine:
    """The engine API reads use.

    On PostgreSQL: its own pool in autocommit, without a ping per checkout, so a read is one
    round trip instead of four (BEGIN, ping, query, ROLLBACK); reads never write, and every write
    goes through the runtime's engine and its transactions. On SQLite: the runtime's engine,
    whose single connection must serve everything in the process.
    """
    store = runtime.store
    if store.dialect != "postgresql":
        return store.engine
    engine = create_async_engine(store.url, pool_size=10, max_overflow=10, pool_pre_ping=False, isolation_level="AUTOCOMMIT")
    return engine.execution_options(schema_translate_map={None: store.schema})


async def get_context(request: Request) -> ControlContext:
    """The process's :class:`ControlContext`.

    ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, and every
    request reaches this one, up to several times (a thread hop each, most of a cheap read's cost).
    """
    ctx: ControlContext = request.app.state.control
    return ctx
