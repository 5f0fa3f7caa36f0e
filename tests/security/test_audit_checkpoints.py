"""Attacks on the audit log's checkpoints: truncation and recomputed-hash rewrites caught against a signed checkpoint,
forged signatures and compact ranges, and what the API and the ``medic audit`` CLI say about them.

Proofs are checked by :mod:`.rfc9162`, a verifier written from RFC 9162 §2.1 (not control-api's code).
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from medic_control.actions import service as audit
from medic_control.actions import tree as audit_tree
from medic_control.actions.checkpoint import Checkpoint, CheckpointProblem, check_checkpoint, sign_checkpoint
from medic_control.actions.keys import load_or_create_signing_key
from medic_control.actions.merkle import CompactRange
from medic_runtime.store import ServiceStore

from .audit_harness import Attacker, StartControl, checkpoint_of, fill, medic, record, verify
from .rfc9162 import hexes, sha256, verify_consistency, verify_inclusion


async def test_truncation_below_a_checkpoint_is_detected_even_with_the_tree_head_rewritten(
    store: ServiceStore, store_url: str, key: Ed25519PrivateKey
) -> None:
    await fill(store, 1, 12)
    saved = await checkpoint_of(store, key)
    await Attacker(store_url).truncate_to(8)
    assert (await verify(store, None)).ok  # without the checkpoint, a consistent shorter trail
    report = await verify(store, key, saved)
    assert not report.ok and report.first_bad_seq == 9 and "truncated" in (report.problem or "")


async def test_an_edit_with_every_hash_recomputed_is_caught_against_a_checkpoint(
    store: ServiceStore, store_url: str, key: Ed25519PrivateKey
) -> None:
    await fill(store, 1, 10)
    saved = await checkpoint_of(store, key)
    await Attacker(store_url).rewrite_from(store, 7, summary="rolled back by nobody")
    assert (await verify(store, None)).ok  # the chain and the stored tree head were recomputed: no checkpoint, no alarm
    report = await verify(store, key, saved)
    assert not report.ok and "rewritten" in (report.problem or "")
    assert report.first_bad_seq is not None and report.first_bad_seq <= 7  # the subtree that holds entry 7


async def test_a_series_of_checkpoints_names_the_exact_first_rewritten_entry(
    store: ServiceStore, store_url: str, key: Ed25519PrivateKey
) -> None:
    await fill(store, 1, 6)
    before = await checkpoint_of(store, key)
    await fill(store, 7, 10)
    after = await checkpoint_of(store, key)
    await Attacker(store_url).rewrite_from(store, 7, summary="rewritten")
    report = await verify(store, key, after, before)
    assert not report.ok and report.first_bad_seq == 7 and report.first_bad_event_id == "evt-7"


async def test_a_checkpoint_with_a_bad_signature_is_refused(store: ServiceStore, key: Ed25519PrivateKey) -> None:
    await fill(store, 1, 5)
    saved = await checkpoint_of(store, key)
    for forged in (
        Checkpoint(**{**_fields(saved), "tree_size": 4}),  # claims a shorter tree, to excuse a truncation
        Checkpoint(**{**_fields(saved), "root_hash": "0" * 64}),
        Checkpoint(**{**_fields(saved), "signature": base64.b64encode(b"\x00" * 64).decode()}),
        Checkpoint(**{**_fields(saved), "signature": "not base64!"}),
    ):
        report = await verify(store, key, forged)
        assert not report.ok and "bad_signature" in (report.problem or "")


async def test_a_checkpoint_signed_with_another_key_is_refused(store: ServiceStore, key: Ed25519PrivateKey) -> None:
    await fill(store, 1, 5)
    other = Ed25519PrivateKey.generate()
    async with store.engine.connect() as conn:
        head = await audit_tree.tree_head(conn)
    theirs = sign_checkpoint(other, head, at=datetime.now(UTC))
    report = await verify(store, key, theirs)
    assert not report.ok and "signed_by_another_key" in (report.problem or "")
    # The same, claiming our key's id: the signature does not verify under our key.
    ours_id = Checkpoint(**{**_fields(theirs), "key_id": (await checkpoint_of(store, key)).key_id})
    report = await verify(store, key, ours_id)
    assert not report.ok and "bad_signature" in (report.problem or "")


async def test_a_checkpoint_whose_compact_range_does_not_fold_to_its_root_is_refused(key: Ed25519PrivateKey) -> None:
    tree = CompactRange()
    for i in range(6):
        tree.append(sha256(bytes([i])))
    good = sign_checkpoint(key, tree, at=datetime.now(UTC))
    assert check_checkpoint(good, key.public_key()) is None
    lying = Checkpoint(**{**_fields(good), "compact_range": (good.compact_range[0], "0" * 64), "signature": ""})
    body_signed = Checkpoint(**{**_fields(lying), "signature": base64.b64encode(key.sign(lying.body())).decode()})
    assert check_checkpoint(body_signed, key.public_key()) is CheckpointProblem.INCONSISTENT


async def test_the_api_serves_a_checkpoint_its_key_verifies_and_proofs_an_outside_verifier_accepts(
    store_url: str, start_control: StartControl
) -> None:
    control = await start_control(store_url)
    async with control.runtime.store.transaction() as conn:
        await audit.append(conn, [record(i) for i in range(1, 10)])
    async with control.client("viewer") as viewer:
        key = (await viewer.get("/api/v1/audit/key")).json()
        checkpoint = (await viewer.get("/api/v1/audit/checkpoint")).json()
        size = checkpoint["tree_size"]
        inclusion = (await viewer.get("/api/v1/audit/proof/inclusion", params={"seq": 3, "tree_size": size})).json()
        consistency = (await viewer.get("/api/v1/audit/proof/consistency", params={"first": 4, "second": size})).json()
        too_far = await viewer.get("/api/v1/audit/proof/inclusion", params={"seq": 1, "tree_size": size + 5})
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    parsed = Checkpoint.from_json(checkpoint)
    public.verify(base64.b64decode(parsed.signature), parsed.body())  # raises if not signed by the served key
    root = bytes.fromhex(checkpoint["root_hash"])
    assert inclusion["root_hash"] == checkpoint["root_hash"] and inclusion["leaf_index"] == 2
    assert verify_inclusion(2, size, bytes.fromhex(inclusion["leaf_hash"]), hexes(inclusion["audit_path"]), root)
    assert verify_consistency(4, size, bytes.fromhex(consistency["first_root"]), root, hexes(consistency["proof"]))
    assert too_far.status_code == 404
    async with control.client("operator") as operator:
        ok = (await operator.get("/api/v1/audit/verify", params={"checkpoint": json.dumps(checkpoint)})).json()
        forged = {**checkpoint, "tree_size": size + 3}
        bad = (await operator.get("/api/v1/audit/verify", params={"checkpoint": json.dumps(forged)})).json()
    assert ok["ok"] and ok["tree_size"] == size
    assert not bad["ok"] and "bad_signature" in bad["problem"]


async def test_medic_audit_verify_checkpoint_names_the_first_broken_entry_and_refuses_a_forged_checkpoint(
    store: ServiceStore, store_url: str, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    await fill(store, 1, 5)
    first = await checkpoint_of(store, key)
    await fill(store, 6, 9)
    second = await checkpoint_of(store, key)
    saved = tmp_path / "checkpoints.jsonl"
    saved.write_text("".join(json.dumps(c.to_json()) + "\n" for c in (first, second)))
    key_file = tmp_path / "keys" / "audit.pem"
    args = ("audit", "verify", "--database-url", store_url, "--checkpoint", str(saved), "--public-key", str(key_file))
    intact = await asyncio.to_thread(medic, *args)
    assert intact.returncode == 0, intact.stderr
    await Attacker(store_url).rewrite_from(store, 6, summary="never deployed")
    broken = await asyncio.to_thread(medic, *args)
    assert broken.returncode == 1 and "row 6" in broken.stderr and "evt-6" in broken.stderr
    other = tmp_path / "other.pem"
    load_or_create_signing_key(other)
    foreign = await asyncio.to_thread(medic, *args[:-1], str(other))
    assert foreign.returncode == 1 and "signed_by_another_key" in foreign.stderr


def _fields(checkpoint: Checkpoint) -> dict[str, Any]:
    return {name: getattr(checkpoint, name) for name in Checkpoint.__slots__}
