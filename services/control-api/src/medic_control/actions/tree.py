"""The audit tree as the API serves it: the current head, signed checkpoints, inclusion and consistency proofs.

Reads only: the head comes from the compact range the appender keeps beside the entries (same
transaction), proofs from the stored leaf hashes (RFC 9162 §2.1.3 and §2.1.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..errors import NotFound, Unprocessable
from .checkpoint import Checkpoint, sign_checkpoint
from .merkle import CompactRange, consistency_proof, inclusion_proof, root_of
from .models import Action, AuditLock

__all__ = ["ConsistencyProof", "InclusionProof", "current_checkpoint", "prove_consistency", "prove_inclusion", "tree_head"]


async def tree_head(conn: AsyncConnection) -> CompactRange:
    """The tree of every entry appended so far."""
    row = (await conn.execute(select(AuditLock.tree_size, AuditLock.compact_range).where(AuditLock.id == 1))).one()
    return CompactRange.decode(int(row.tree_size), str(row.compact_range))


async def current_checkpoint(conn: AsyncConnection, *, key: Ed25519PrivateKey, at: datetime) -> Checkpoint:
    """The current tree head, signed with ``key`` as of ``at``."""
    return sign_checkpoint(key, await tree_head(conn), at=at)


async def _leaves(conn: AsyncConnection, size: int) -> list[bytes]:
    """The first ``size`` leaf hashes (NotFound when the tree is smaller)."""
    current = (await tree_head(conn)).size
    if size > current:
        raise NotFound(f"the tree has {current} entries, not {size}")
    rows = (await conn.execute(select(Action.leaf_hash).where(Action.seq <= size).order_by(Action.seq))).scalars().all()
    if len(rows) != size:
        raise Unprocessable(f"the store holds {len(rows)} of the first {size} entries: run `medic audit verify`")
    return [bytes.fromhex(h) for h in rows]


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That entry ``seq`` (leaf ``seq - 1``) is in the tree of ``tree_size`` entries whose root is ``root_hash``."""

    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


async def prove_inclusion(conn: AsyncConnection, *, seq: int, tree_size: int | None = None) -> InclusionProof:
    """The audit path of entry ``seq`` in the tree of ``tree_size`` entries (the current tree by default)."""
    size = tree_size if tree_size is not None else (await tree_head(conn)).size
    if not 1 <= seq <= size:
        raise Unprocessable(f"entry {seq} is not in a tree of {size} entries")
    leaves = await _leaves(conn, size)
    path = inclusion_proof(seq - 1, leaves)
    return InclusionProof(seq, size, leaves[seq - 1].hex(), root_of(leaves).hex(), [h.hex() for h in path])


async def prove_consistency(conn: AsyncConnection, *, first: int, second: int) -> ConsistencyProof:
    """The consistency proof between the trees of ``first`` and ``second`` entries."""
    if not 1 <= first <= second:
        raise Unprocessable("a consistency proof needs 1 <= first <= second")
    leaves = await _leaves(conn, second)
    proof = consistency_proof(first, leaves)
    return ConsistencyProof(first, second, root_of(leaves[:first]).hex(), root_of(leaves).hex(), [h.hex() for h in proof])
