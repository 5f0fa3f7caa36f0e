"""OIDC bearer tokens: JWTs verified against the issuer's JWKS, with a claim mapped to a role."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from .schemas import AuthRefusal, Principal, RefusalReason, Role

__all__ = ["OidcVerifier"]

log = logging.getLogger("medic.control.oidc")

_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcVerifier:
    """Verifies JWTs from one issuer: signature (JWKS, cached), issuer, audience, expiry, role claim."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str,
        role_claim: str,
        role_map: dict[str, str],
        identity_claim: str,
        cache_s: float = 300.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.role_claim = role_claim
        self.role_map = role_map
        self.identity_claim = identity_claim
        self.cache_s = cache_s
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _jwks(self, *, refresh: bool = False) -> jwt.PyJWKSet | None:
        async with self._lock:
            fresh = time.monotonic() - self._fetched_at < self.cache_s
            # A refresh for an unknown key id is allowed at most every 10 s (no JWKS flood on bad tokens).
            if self._keys is not None and ((fresh and not refresh) or time.monotonic() - self._fetched_at < 10):
                return self._keys
            try:
                async with httpx.AsyncClient(timeout=5.0) as client:
                    response = await client.get(self.jwks_url)
                    response.raise_for_status()
                    self._keys = jwt.PyJWKSet.from_dict(response.json())
                    self._fetched_at = time.monotonic()
            except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
                log.warning("JWKS unavailable: %s", exc)
            return self._keys

    async def _key(self, kid: str | None) -> Any | None:
        for refresh in (False, True):
            keys = await self._jwks(refresh=refresh)
            if keys is None:
                return None
            for key in keys.keys:
                if kid is None or key.key_id == kid:
                    return key.key
        return None

    def _role(self, claims: dict[str, Any]) -> Role | None:
        # Only role_map grants a role: a group the IdP lets anyone name "admin" is just a group name.
        value = claims.get(self.role_claim)
        values = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        best: Role | None = None
        for item in values:
            name = self.role_map.get(str(item))
            if name is None:
                continue
            role = Role.parse(name)
            best = role if best is None or role > best else best
        return best

    async def verify(self, token: str) -> Principal | None:
        """The principal a JWT stands for, or None when it is refused (see :meth:`check`)."""
        verdict = await self.check(token)
        return verdict if isinstance(verdict, Principal) else None

    async def check(self, token: str) -> Principal | AuthRefusal:
        """The principal a JWT stands for, or why not: invalid, no role mapped, or an unverified email as identity."""
        invalid = AuthRefusal(RefusalReason.INVALID_JWT, "oidc")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return invalid
        if header.get("alg") not in _ALGORITHMS:
            return AuthRefusal(RefusalReason.INVALID_JWT, "oidc", detail=f"algorithm {str(header.get('alg'))[:20]!r} refused")
        key = await self._key(header.get("kid"))
        if key is None:
            return AuthRefusal(RefusalReason.INVALID_JWT, "oidc", detail="no matching key in the JWKS")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=_ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            return AuthRefusal(RefusalReason.INVALID_JWT, "oidc", detail=type(exc).__name__)
        subject = str(claims["sub"])[:200]
        role = self._role(claims)
        if role is None:
            return AuthRefusal(RefusalReason.NO_MAPPED_ROLE, "oidc", subject, f"no {self.role_claim} value is in role_map")
        claimed = claims.get(self.identity_claim)
        verified = claims.get("email_verified")
        if claimed and self.identity_claim == "email" and not (verified is True or verified == "true"):
            # An IdP that lets users set any email would otherwise let them act as anyone.
            return AuthRefusal(RefusalReason.EMAIL_UNVERIFIED, "oidc", subject, "email_verified is not true")
        identity = str(claimed or subject)
        return Principal(identity=identity, role=role, via="oidc")
