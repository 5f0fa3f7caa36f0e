"""Recomputing the audit trail: every entry's chain hash and leaf, the Merkle tree, and signed checkpoints.

Without a checkpoint, an edit shows as a hash mismatch at the edited row. With one (kept outside
the store: a witness, a saved file), the two attacks a self-contained chain cannot see are caught
as well: a trail shorter than the checkpoint was truncated; a trail whose first ``tree_size``
entries no longer hash to the signed root was rewritten and re-hashed. The checkpoint's signed
compact range narrows such a rewrite to one subtree, and several checkpoints narrow it further.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from .chain import GENESIS, ChainEntry
from .checkpoint import Checkpoint, check_checkpoint
from .merkle import CompactRange, leaf_hash, subtree_ranges
from .models import Action, AuditLock

__all__ = ["VerifyReport", "verify"]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of recomputing the trail."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_event_id: str | None = None
    problem: str | None = None
    tree_size: int = 0
    root_hash: str | None = None
    checkpoints_checked: int = 0


def _entry(row: Any) -> ChainEntry:
    return ChainEntry(
        seq=row.seq,
        event_id=row.event_id,
        event_type=row.event_type,
        issue_id=row.issue_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        service=row.service,
        actor=row.actor,
        action=row.action,
        status=row.status,
        summary=row.summary,
        reasoning=row.reasoning,
        details=row.details,
    )


def _rewritten_range(tree: CompactRange, checkpoint: Checkpoint, *, after: int) -> tuple[int, int]:
    """The seq range (1-based, inclusive) of the first subtree whose hash differs from the checkpoint's."""
    for (start, end), ours, theirs in zip(subtree_ranges(tree.size), tree.hashes, checkpoint.compact_range, strict=True):
        if ours.hex() != theirs:
            return max(start + 1, after + 1), end
    return after + 1, tree.size  # same subtrees, other root: cannot happen for a consistent checkpoint


async def verify(
    conn: AsyncConnection,
    *,
    expected_head: str | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    public_key: Ed25519PublicKey | None = None,
    chunk: int = 2000,
) -> VerifyReport:
    """Recompute every hash in order; report the first entry that is edited, missing, out of place or rewritten.

    ``expected_head`` (a hash exported earlier with ``medic audit head``) must appear in the chain.
    Each of ``checkpoints`` must be signed by ``public_key`` and match the tree of the first
    ``tree_size`` entries; a trail shorter than a checkpoint was truncated.
    """
    if checkpoints and public_key is None:
        raise ValueError("checking checkpoints needs the public key they are signed with")
    pending = sorted(checkpoints, key=lambda c: c.tree_size)
    for checkpoint in pending:
        assert public_key is not None
        problem = check_checkpoint(checkpoint, public_key)
        if problem is not None:
            return VerifyReport(
                False, 0, 0, GENESIS, None, None, f"the checkpoint of size {checkpoint.tree_size} is not trusted: {problem.value}"
            )
    prev, expected_seq, rows, seen_expected = GENESIS, 1, 0, expected_head is None
    last_seq, tree, matched = 0, CompactRange(), 0

    def bad(seq: int, event_id: str | None, problem: str) -> VerifyReport:
        return VerifyReport(False, rows, last_seq, prev, seq, event_id, problem, tree.size, tree.root().hex(), matched)

    while True:
        batch = (await conn.execute(select(Action).where(Action.seq >= expected_seq).order_by(Action.seq).limit(chunk))).all()
        if not batch:
            break
        for row in batch:
            if row.seq != expected_seq:
                return bad(expected_seq, None, f"row {expected_seq} is missing (next row is {row.seq})")
            if row.prev_hash != prev:
                return bad(row.seq, row.event_id, f"row {row.seq} does not link to row {row.seq - 1}")
            leaf = _entry(row).canonical().encode("utf-8")
            if hashlib.sha256(prev.encode("ascii") + leaf).hexdigest() != row.hash:
                return bad(row.seq, row.event_id, f"row {row.seq} was modified (hash mismatch)")
            node = leaf_hash(leaf)
            if node.hex() != row.leaf_hash:
                return bad(row.seq, row.event_id, f"row {row.seq} was modified (leaf hash mismatch)")
            tree.append(node)
            prev, last_seq, expected_seq, rows = row.hash, row.seq, row.seq + 1, rows + 1
            seen_expected = seen_expected or row.hash == expected_head
            while pending and pending[0].tree_size == tree.size:
                checkpoint = pending.pop(0)
                if tree.root().hex() != checkpoint.root_hash:
                    first, last = _rewritten_range(tree, checkpoint, after=matched)
                    event_id = (await conn.execute(select(Action.event_id).where(Action.seq == first))).scalar_one_or_none()
                    return bad(
                        first,
                        event_id,
                        f"entries {first}–{last} were rewritten: the first {checkpoint.tree_size} entries no longer "
                        f"hash to the root signed at {checkpoint.timestamp}",
                    )
                matched = checkpoint.tree_size
    while pending and pending[0].tree_size == 0:
        pending.pop(0)  # the empty tree: nothing to match
    if pending:
        checkpoint = pending[0]
        return bad(
            last_seq + 1,
            None,
            f"the trail was truncated: it holds {rows} entries but the checkpoint signed at {checkpoint.timestamp} "
            f"has {checkpoint.tree_size}",
        )
    if not seen_expected:
        return bad(last_seq + 1, None, "the exported head is not in the chain: rows after it were removed")
    stored = (await conn.execute(select(AuditLock.tree_size, AuditLock.compact_range).where(AuditLock.id == 1))).first()
    if stored is not None and (int(stored.tree_size), str(stored.compact_range)) != (tree.size, tree.encode()):
        return bad(last_seq + 1, None, "the stored tree head does not match the entries (edited by hand)")
    return VerifyReport(True, rows, last_seq, prev, None, None, None, tree.size, tree.root().hex(), len(checkpoints))
