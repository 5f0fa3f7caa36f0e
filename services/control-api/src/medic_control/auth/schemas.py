"""Roles, principals and the token API's request/response models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from ..bodies import RequestBody

__all__ = ["AuthRefusal", "Principal", "RefusalReason", "Role", "TokenCreate", "TokenCreated", "TokenInfo"]


class Role(IntEnum):
    """viewer < operator < admin: each role can do everything the roles below it can."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        """The role named ``name`` (viewer, operator, admin); ValueError otherwise."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}: expected viewer, operator or admin") from None

    @property
    def label(self) -> str:
        """The role's lower-case name."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: their identity (token name or OIDC subject) and role."""

    identity: str
    role: Role
    via: str  # "token", "oidc" or "session"
    expires_at: datetime | None = None  # an API token's expiry: checked again on every cache hit

    def can(self, role: Role) -> bool:
        """True when this principal holds ``role`` or a higher one."""
        return self.role >= role


class RefusalReason(StrEnum):
    """Why a credential was refused (audited as ``auth.refused``)."""

    MALFORMED = "malformed"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105
    REVOKED_TOKEN = "revoked_token"  # noqa: S105
    EXPIRED_TOKEN = "expired_token"  # noqa: S105
    INVALID_JWT = "invalid_jwt"
    NO_MAPPED_ROLE = "no_mapped_role"
    EMAIL_UNVERIFIED = "email_unverified"
    ROLE_TOO_LOW = "role_too_low"


@dataclass(frozen=True, slots=True)
class AuthRefusal:
    """A credential that does not authenticate, and why; ``subject`` only when it is known to be genuine."""

    reason: RefusalReason
    via: str  # "token" or "oidc"
    subject: str | None = None  # token name, or the verified JWT's sub/email
    detail: str = ""


class TokenCreate(RequestBody):
    """A token to issue."""

    name: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.@:+-]+$",
        description="Unique name; the identity it acts as.",
        examples=["alice"],
    )
    role: str = Field(pattern=r"^(viewer|operator|admin)$", description="viewer, operator or admin.", examples=["operator"])
    expires_at: AwareDatetime | None = Field(default=None, description="When it stops working (never by default).")


class TokenInfo(BaseModel):
    """A token's metadata (never its secret)."""

    id: str = Field(description="Token id.")
    name: str = Field(description="Identity the token acts as.")
    role: str = Field(description="viewer, operator or admin.")
    prefix: str = Field(description="First characters of the secret, to recognise it.")
    created_at: datetime = Field(description="When it was issued.")
    created_by: str = Field(description="Who issued it.")
    expires_at: datetime | None = Field(default=None, description="When it stops working.")
    revoked_at: datetime | None = Field(default=None, description="When it was revoked.")


class TokenCreated(TokenInfo):
    """A token just issued: the secret is shown once."""

    token: str = Field(description="The secret; store it now, it is not kept.", examples=["mdc_Xy..."])
