"""An RFC 9162 §2.1 verifier written from the RFC's text, independent of control-api's prover.

The audit-log tests check control-api's proofs with it, so a bug shared by prover and verifier
cannot hide.
"""

from __future__ import annotations

import hashlib

__all__ = ["hexes", "rfc_root", "sha256", "verify_consistency", "verify_inclusion"]


def sha256(data: bytes) -> bytes:
    """SHA-256, as the RFC writes HASH."""
    return hashlib.sha256(data).digest()


def rfc_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over the raw leaf data, straight from §2.1.1."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + rfc_root(leaves[:k]) + rfc_root(leaves[k:]))


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """§2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> bool:
    """§2.1.4.2, step by step (equal sizes: an empty proof and equal roots)."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha256(b"\x01" + c + fr)
            sr = sha256(b"\x01" + c + sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]
