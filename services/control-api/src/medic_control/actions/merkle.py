"""The audit trail's RFC 6962 / RFC 9162 §2.1 Merkle tree, as pure functions over leaf hashes.

Leaves are the entries' canonical JSON, hashed ``sha256(0x00 || leaf)``; an interior node is
``sha256(0x01 || left || right)``. The tree head grows incrementally from its *compact range*
(the right edge: one hash per set bit of the tree size, largest subtree first), so an append
costs O(log n) hashes and the store keeps only that range, not the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_of",
    "subtree_ranges",
]

#: The root of the empty tree: sha256 of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """``sha256(0x00 || leaf)``."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``sha256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_ranges(size: int) -> list[tuple[int, int]]:
    """The ``[start, end)`` leaf ranges of the perfect subtrees a compact range of ``size`` holds, left to right."""
    ranges, start = [], 0
    for bit in reversed(range(size.bit_length())):
        if size & (1 << bit):
            ranges.append((start, start + (1 << bit)))
            start += 1 << bit
    return ranges


class CompactRange:
    """The right edge of a tree of ``size`` leaves: append a leaf in O(log n), read the root in O(log n)."""

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError(f"a compact range of {size} leaves holds {size.bit_count()} hashes, not {len(hashes)}")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash: merge the equal-sized subtrees it completes."""
        digest, size = leaf, self.size
        while size & 1:
            digest = node_hash(self.hashes.pop(), digest)
            size >>= 1
        self.hashes.append(digest)
        self.size += 1

    def root(self) -> bytes:
        """The tree head: the subtrees folded right to left (MTH of all leaves so far)."""
        if not self.hashes:
            return EMPTY_ROOT
        digest = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            digest = node_hash(left, digest)
        return digest

    def copy(self) -> CompactRange:
        """An independent copy."""
        return CompactRange(self.size, list(self.hashes))

    def encode(self) -> str:
        """The stored form: the hashes in hex, concatenated."""
        return "".join(h.hex() for h in self.hashes)

    @classmethod
    def decode(cls, size: int, text: str) -> CompactRange:
        """Read the stored form back (ValueError when it does not fit ``size``)."""
        return cls(size, [bytes.fromhex(text[i : i + 64]) for i in range(0, len(text), 64)])


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of a list of leaf hashes (RFC 9162 §2.1.1)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf ``index`` in the tree of ``leaves`` (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root_of(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root_of(leaves[:k])]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): that the tree of the first ``first`` leaves is a prefix of ``leaves`` (RFC 9162 §2.1.4.1)."""
    if not 0 < first <= len(leaves):
        raise ValueError(f"no consistency proof from {first} to {len(leaves)}")
    return _subproof(first, leaves, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_of(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), root_of(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), root_of(leaves[:k])]
