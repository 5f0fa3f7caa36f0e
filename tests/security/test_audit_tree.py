"""Attacks on the audit log's tree and rows: tampered proofs, rewrites, forged inserts, updates, deletes and upserts.

Proofs are checked by :mod:`.rfc9162`, a verifier written from RFC 9162 §2.1 (not control-api's code).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from medic_control.actions import service as audit
from medic_control.actions import tree as audit_tree
from medic_control.actions.chain import ChainEntry
from medic_control.actions.models import Action
from medic_runtime.store import ServiceStore

from .audit_harness import Attacker, checkpoint_of, fill, verify
from .rfc9162 import hexes, rfc_root, sha256, verify_consistency, verify_inclusion


async def test_the_tree_root_is_rfc_6962s_over_the_canonical_json_of_every_entry(store: ServiceStore) -> None:
    """Appends in batches of different sizes leave the root the RFC computes over the entries' canonical JSON."""
    for first, last in ((1, 1), (2, 6), (7, 7), (8, 21)):
        await fill(store, first, last)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(Action).order_by(Action.seq))).all()
        head = await audit_tree.tree_head(conn)
    leaves = [ChainEntry(**{n: getattr(r, n) for n in ChainEntry.__slots__}).canonical().encode() for r in rows]
    assert head.size == 21 and len(head.hashes) == bin(21).count("1")  # the compact range only, not the tree
    assert head.root() == rfc_root(leaves)
    assert all(r.leaf_hash == sha256(b"\x00" + leaf).hex() for r, leaf in zip(rows, leaves, strict=True))


async def test_inclusion_and_consistency_proofs_verify_with_an_independent_verifier(store: ServiceStore) -> None:
    await fill(store, 1, 13)
    async with store.engine.connect() as conn:
        for size in (1, 2, 5, 8, 13):
            for seq in range(1, size + 1):
                proof = await audit_tree.prove_inclusion(conn, seq=seq, tree_size=size)
                assert verify_inclusion(
                    seq - 1, size, bytes.fromhex(proof.leaf_hash), hexes(proof.audit_path), bytes.fromhex(proof.root_hash)
                ), (seq, size)
            for first in range(1, size + 1):
                c = await audit_tree.prove_consistency(conn, first=first, second=size)
                assert verify_consistency(
                    first, size, bytes.fromhex(c.first_root), bytes.fromhex(c.second_root), hexes(c.proof)
                ), (first, size)


async def test_a_tampered_inclusion_proof_is_rejected(store: ServiceStore) -> None:
    await fill(store, 1, 11)
    async with store.engine.connect() as conn:
        proof = await audit_tree.prove_inclusion(conn, seq=6, tree_size=11)
    leaf, root, path = bytes.fromhex(proof.leaf_hash), bytes.fromhex(proof.root_hash), hexes(proof.audit_path)
    assert verify_inclusion(5, 11, leaf, path, root)
    flipped = [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]
    assert not verify_inclusion(5, 11, leaf, flipped, root)  # a sibling changed
    assert not verify_inclusion(4, 11, leaf, path, root)  # claimed for another position
    assert not verify_inclusion(5, 11, sha256(b"\x00forged"), path, root)  # another entry
    assert not verify_inclusion(5, 11, leaf, path[:-1], root)  # shortened
    assert not verify_inclusion(5, 11, leaf, [*path, path[-1]], root)  # padded


async def test_a_tampered_consistency_proof_is_rejected(store: ServiceStore) -> None:
    await fill(store, 1, 12)
    async with store.engine.connect() as conn:
        c = await audit_tree.prove_consistency(conn, first=5, second=12)
    old, new, proof = bytes.fromhex(c.first_root), bytes.fromhex(c.second_root), hexes(c.proof)
    assert verify_consistency(5, 12, old, new, proof)
    assert not verify_consistency(5, 12, old, new, [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]])
    assert not verify_consistency(5, 12, sha256(b"another history"), new, proof)
    assert not verify_consistency(6, 12, old, new, proof)
    assert not verify_consistency(5, 12, old, new, proof[:-1])


async def test_after_a_rewrite_the_new_tree_is_not_consistent_with_the_signed_old_root(
    store: ServiceStore, store_url: str, key: Ed25519PrivateKey
) -> None:
    await fill(store, 1, 9)
    saved = await checkpoint_of(store, key)
    await Attacker(store_url).rewrite_from(store, 4, summary="nothing happened")
    await fill(store, 10, 14)
    async with store.engine.connect() as conn:
        c = await audit_tree.prove_consistency(conn, first=9, second=14)
    assert not verify_consistency(9, 14, bytes.fromhex(saved.root_hash), bytes.fromhex(c.second_root), hexes(c.proof))


async def test_a_forged_insert_with_the_wrong_previous_hash_is_refused(store: ServiceStore, store_url: str) -> None:
    await fill(store, 1, 3)
    attacker = Attacker(store_url)
    forged = (
        f"INSERT INTO {attacker.table} (seq, event_id, event_type, issue_id, occurred_at, recorded_at, service, actor, "
        "action, status, summary, reasoning, details, prev_hash, hash, leaf_hash) VALUES (4, 'forged', 'action_recorded', "
        "NULL, '2026-12-01 09:00:00', '2026-12-01 09:00:00', 'implementer', 'implementer', 'deploy', 'succeeded', "
        f"'approved by nobody', NULL, '{{}}', '{'a' * 64}', '{'b' * 64}', '{'c' * 64}')"
    )
    with pytest.raises(attacker.refused(), match="append-only"):
        await attacker.sql(forged)
    report = await verify(store, None)
    assert report.ok and report.rows == 3


async def test_a_forged_insert_out_of_sequence_is_refused(store: ServiceStore, store_url: str) -> None:
    await fill(store, 1, 3)
    attacker = Attacker(store_url)
    _, last = await _head(store)
    for seq in (5, 0, -1):  # a gap, and before the start
        with pytest.raises(attacker.refused(), match="append-only"):
            await attacker.sql(_insert(attacker, seq=seq, event_id=f"forged-{seq}", prev=last))
    assert (await verify(store, None)).rows == 3


async def test_a_forged_insert_with_the_right_links_but_made_up_hashes_is_named(store: ServiceStore, store_url: str) -> None:
    """The database cannot recompute the hash; verification does, and names the forged row."""
    await fill(store, 1, 3)
    attacker = Attacker(store_url)
    _, last = await _head(store)
    await attacker.sql(_insert(attacker, seq=4, event_id="forged-4", prev=last))
    report = await verify(store, None)
    assert not report.ok and report.first_bad_seq == 4 and report.first_bad_event_id == "forged-4"


async def test_update_and_delete_of_an_entry_are_refused(store: ServiceStore, store_url: str) -> None:
    await fill(store, 1, 4)
    attacker = Attacker(store_url)
    for statement in (
        f"UPDATE {attacker.table} SET summary = 'edited' WHERE seq = 2",
        f"DELETE FROM {attacker.table} WHERE seq = 4",
        f"DELETE FROM {attacker.table}",
    ):
        with pytest.raises(attacker.refused(), match="append-only"):
            await attacker.sql(statement)
    assert (await verify(store, None)).ok


async def test_sqlite_replace_into_an_existing_entry_is_refused(store: ServiceStore, store_url: str) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("REPLACE is SQLite's")
    await fill(store, 1, 4)
    attacker = Attacker(store_url)
    _, last = await _head(store)
    for verb in ("REPLACE", "INSERT OR REPLACE"):
        # The same seq (a rewrite of entry 2), and a new seq reusing entry 2's event id (REPLACE would delete it).
        for seq, event_id, prev in ((2, "evt-2", "0" * 64), (5, "evt-2", last)):
            for pragmas in ((), ("PRAGMA recursive_triggers = ON",)):
                statement = _insert(attacker, seq=seq, event_id=event_id, prev=prev).replace("INSERT", verb, 1)
                with pytest.raises(attacker.refused(), match="append-only"):
                    await attacker.sql(statement, pragmas=pragmas)
    report = await verify(store, None)
    assert report.ok and report.rows == 4


async def test_postgres_upsert_over_an_entry_is_refused(store: ServiceStore, store_url: str) -> None:
    if store_url.startswith("sqlite"):
        pytest.skip("ON CONFLICT DO UPDATE on PostgreSQL; SQLite's REPLACE has its own test")
    await fill(store, 1, 3)
    attacker = Attacker(store_url)
    _, last = await _head(store)
    upsert = _insert(attacker, seq=4, event_id="evt-2", prev=last) + " ON CONFLICT (event_id) DO UPDATE SET summary = 'x'"
    with pytest.raises(attacker.refused(), match="append-only"):
        await attacker.sql(upsert)
    with pytest.raises(attacker.refused(), match="append-only"):
        await attacker.sql(f"TRUNCATE {attacker.table}")
    assert (await verify(store, None)).ok


async def _head(store: ServiceStore) -> tuple[int, str]:
    async with store.engine.connect() as conn:
        return await audit.head(conn)


def _insert(attacker: Attacker, *, seq: int, event_id: str, prev: str) -> str:
    return (
        f"INSERT INTO {attacker.table} (seq, event_id, event_type, issue_id, occurred_at, recorded_at, service, actor, "
        "action, status, summary, reasoning, details, prev_hash, hash, leaf_hash) VALUES "
        f"({seq}, '{event_id}', 'action_recorded', NULL, '2026-12-01 09:00:00', '2026-12-01 09:00:00', 'implementer', "
        f"'implementer', 'deploy', 'succeeded', 'forged', NULL, '{{}}', '{prev}', '{'b' * 64}', '{'c' * 64}')"
    )
