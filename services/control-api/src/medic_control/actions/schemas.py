"""Response models of the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ActionOut",
    "ActionPage",
    "AuditHead",
    "AuditKey",
    "AuditVerification",
    "CheckpointOut",
    "ConsistencyProofOut",
    "InclusionProofOut",
]


class ActionOut(BaseModel):
    """One audit entry: what happened, who did it, why, with its details and hashes."""

    seq: int = Field(description="Position in the chain (1, 2, 3, …).")
    event_id: str = Field(description="Event the entry records.")
    event_type: str = Field(description="Type of that event.", examples=["fix_committed"])
    issue_id: str | None = Field(description="Issue it belongs to.", examples=["iss_7d1f2a"])
    occurred_at: datetime = Field(description="When it happened.")
    recorded_at: datetime = Field(description="When control-api recorded it.")
    service: str = Field(description="Service that produced it.", examples=["implementer"])
    actor: str = Field(description="Who acted (service, token name or OIDC subject).", examples=["alice"])
    action: str = Field(description="Dotted step name.", examples=["fix.committed"])
    status: str = Field(description="started, succeeded, failed, refused or skipped.")
    summary: str = Field(description="One line for the feed.")
    reasoning: str | None = Field(description="Why, in words.")
    details: dict[str, Any] = Field(description="Structured details: the event payload, diff, tests, verdicts.")
    prev_hash: str = Field(description="Hash of the previous entry.")
    hash: str = Field(description="sha256(prev_hash || canonical_json(entry)).")
    leaf_hash: str = Field(description="sha256(0x00 || canonical_json(entry)): its leaf in the RFC 6962 tree.")


class ActionPage(BaseModel):
    """A page of audit entries, newest first."""

    items: list[ActionOut] = Field(description="The entries.")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


class AuditHead(BaseModel):
    """The chain's head, for export outside the database."""

    seq: int = Field(description="seq of the last entry (0 when empty).")
    hash: str = Field(description="Its hash.")


class AuditVerification(BaseModel):
    """The result of recomputing the whole chain."""

    ok: bool = Field(description="True when every entry is intact and in place.")
    rows: int = Field(description="Entries verified before the first problem.")
    head_seq: int = Field(description="Last intact entry.")
    head_hash: str = Field(description="Its hash.")
    first_bad_seq: int | None = Field(default=None, description="First entry that is edited, missing or out of place.")
    first_bad_event_id: str | None = Field(default=None, description="Its event id, when the row exists.")
    problem: str | None = Field(default=None, description="What is wrong with it.")
    tree_size: int = Field(default=0, description="Entries in the recomputed Merkle tree.")
    root_hash: str | None = Field(default=None, description="Its root (hex).")


class AuditKey(BaseModel):
    """The public key audit checkpoints are signed with."""

    algorithm: str = Field(description="Always Ed25519.", examples=["Ed25519"])
    key_id: str = Field(description="First 16 hex digits of sha256 of the raw public key.")
    public_key: str = Field(description="The raw 32-byte public key, base64.")
    pem: str = Field(description="The public key as PEM (SubjectPublicKeyInfo).")


class CheckpointOut(BaseModel):
    """A signed tree head: save it, or compare it with a witness's, to detect truncation and rewrites."""

    origin: str = Field(description="What is signed: medic-audit-checkpoint/v1.")
    tree_size: int = Field(description="Entries in the tree.")
    root_hash: str = Field(description="RFC 6962 root (hex).")
    timestamp: str = Field(description="When it was signed (UTC).")
    compact_range: list[str] = Field(description="The tree's right edge: one subtree hash per set bit of the size.")
    key_id: str = Field(description="The signing key's id.")
    signature: str = Field(description="Ed25519 over the lines origin, tree_size, root_hash, timestamp, compact_range.")


class InclusionProofOut(BaseModel):
    """RFC 9162 §2.1.3: entry `seq` (leaf index seq - 1) is in the tree of `tree_size` entries."""

    seq: int = Field(description="The entry.")
    leaf_index: int = Field(description="seq - 1.")
    tree_size: int = Field(description="Size of the tree proved against.")
    leaf_hash: str = Field(description="The entry's leaf hash (hex).")
    root_hash: str = Field(description="That tree's root (hex).")
    audit_path: list[str] = Field(description="Sibling hashes from the leaf up (hex).")


class ConsistencyProofOut(BaseModel):
    """RFC 9162 §2.1.4: the tree of `first` entries is a prefix of the tree of `second`."""

    first: int = Field(description="The older tree's size.")
    second: int = Field(description="The newer tree's size.")
    first_root: str = Field(description="The older root (hex).")
    second_root: str = Field(description="The newer root (hex).")
    proof: list[str] = Field(description="The consistency proof (hex).")
