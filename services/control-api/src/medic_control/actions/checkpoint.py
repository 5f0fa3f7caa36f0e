"""Signed checkpoints of the audit tree: (tree size, root hash, time, compact range), Ed25519-signed.

A checkpoint kept outside the store (a witness, a file an auditor saved) pins the trail: a store
whose first ``tree_size`` entries no longer hash to ``root_hash`` was rewritten, one with fewer
entries was truncated. The signed body is plain text, one field a line, so any Ed25519 tool can
check it; the compact range is signed too, and lets a verifier narrow a rewrite to one subtree.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .chain import iso
from .merkle import CompactRange

__all__ = ["ORIGIN", "Checkpoint", "CheckpointProblem", "check_checkpoint", "key_id", "public_key_b64", "sign_checkpoint"]

#: First line of every signed body: what the signature is about (and its format version).
ORIGIN = "medic-audit-checkpoint/v1"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of sha256 of its raw bytes."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_key_b64(public: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64."""
    return base64.b64encode(_raw(public)).decode("ascii")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed tree head."""

    tree_size: int
    root_hash: str  # hex
    timestamp: str  # ISO 8601 UTC, as signed
    compact_range: tuple[str, ...]  # hex, largest subtree first
    key_id: str
    signature: str  # base64 Ed25519 over :meth:`body`

    def body(self) -> bytes:
        """The signed bytes."""
        lines = [ORIGIN, str(self.tree_size), self.root_hash, self.timestamp, ",".join(self.compact_range)]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as a JSON object (what witnesses store and the API serves)."""
        return {
            "origin": ORIGIN,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "compact_range": list(self.compact_range),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Read a checkpoint object back (ValueError when it is not one)."""
        if not isinstance(data, dict) or data.get("origin") != ORIGIN:
            raise ValueError(f"not a {ORIGIN} checkpoint")
        try:
            size = int(data["tree_size"])
            compact = tuple(str(h) for h in data["compact_range"])
            return cls(size, str(data["root_hash"]), str(data["timestamp"]), compact, str(data["key_id"]), str(data["signature"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed checkpoint: {exc}") from None

    @classmethod
    def parse_many(cls, text: str) -> list[Checkpoint]:
        """Every checkpoint in ``text``: one JSON object, a JSON list, or JSON lines (a file witness)."""
        stripped = text.strip()
        if not stripped:
            return []
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return [cls.from_json(json.loads(line)) for line in stripped.splitlines() if line.strip()]
        return [cls.from_json(item) for item in (data if isinstance(data, list) else [data])]


def sign_checkpoint(key: Ed25519PrivateKey, tree: CompactRange, *, at: datetime) -> Checkpoint:
    """Sign the head of ``tree`` as of ``at``."""
    unsigned = Checkpoint(
        tree_size=tree.size,
        root_hash=tree.root().hex(),
        timestamp=iso(at),
        compact_range=tuple(h.hex() for h in tree.hashes),
        key_id=key_id(key.public_key()),
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.body())).decode("ascii")
    return Checkpoint(**{**{f: getattr(unsigned, f) for f in Checkpoint.__slots__}, "signature": signature})


class CheckpointProblem(StrEnum):
    """Why a checkpoint cannot be trusted."""

    OTHER_KEY = "signed_by_another_key"
    BAD_SIGNATURE = "bad_signature"
    INCONSISTENT = "inconsistent"  # its compact range does not fold to its root


def check_checkpoint(checkpoint: Checkpoint, public: Ed25519PublicKey) -> CheckpointProblem | None:
    """None when ``checkpoint`` is signed by ``public`` and self-consistent; else why not."""
    if checkpoint.key_id != key_id(public):
        return CheckpointProblem.OTHER_KEY
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.body())
    except (InvalidSignature, ValueError):
        return CheckpointProblem.BAD_SIGNATURE
    try:
        tree = CompactRange(checkpoint.tree_size, [bytes.fromhex(h) for h in checkpoint.compact_range])
    except ValueError:
        return CheckpointProblem.INCONSISTENT
    if tree.root().hex() != checkpoint.root_hash:
        return CheckpointProblem.INCONSISTENT
    return None
