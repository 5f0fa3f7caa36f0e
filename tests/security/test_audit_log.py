"""Attacks on the audit log: truncation, rewrites with recomputed hashes, forged and replaced rows, forged checkpoints and proofs.

Proofs are checked by :mod:`.rfc9162`, a verifier written from RFC 9162 §2.1 (not control-api's code).
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from medic_control.actions import service as audit
from medic_control.actions import tree as audit_tree
from medic_control.actions.chain import ChainEntry
from medic_control.actions.checkpoint import Checkpoint, CheckpointProblem, check_checkpoint, sign_checkpoint
from medic_control.actions.keys import load_or_create_signing_key, load_public_key
from medic_control.actions.merkle import CompactRange
from medic_control.actions.models import Action
from medic_control.actions.witness import FileWitness, GitWitness, HttpWitness, witness_from_url
from medic_runtime.store import ServiceStore

from .audit_harness import Attacker, StartControl, eventually, fill, record, start_control, store, store_url
from .rfc9162 import hexes, rfc_root, sha256, verify_consistency, verify_inclusion

__all__ = ["start_control", "store", "store_url"]  # fixtures, imported for pytest


# ---- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    return load_or_create_signing_key(tmp_path / "keys" / "audit.pem")


async def checkpoint_of(store: ServiceStore, key: Ed25519PrivateKey) -> Checkpoint:
    async with store.engine.connect() as conn:
        return await audit_tree.current_checkpoint(conn, key=key, at=datetime.now(UTC))


async def verify(store: ServiceStore, key: Ed25519PrivateKey | None, *checkpoints: Checkpoint) -> audit.VerifyReport:
    async with store.engine.connect() as conn:
        return await audit.verify(conn, checkpoints=checkpoints, public_key=key.public_key() if key else None)


def medic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``medic`` CLI, as an operator runs it."""
    import os
    import sys

    environ = {**os.environ, "MEDIC_CLI_CONFIG": "/nonexistent/cli.toml", **(env or {})}
    environ.pop("MEDIC_API_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "medic", *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


# ---- the tree itself -------------------------------------------------------------------------


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


# ---- the store refuses -----------------------------------------------------------------------


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


# ---- checkpoints -----------------------------------------------------------------------------


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


# ---- the API and the CLI ---------------------------------------------------------------------


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


async def test_checkpoints_are_published_to_a_file_witness_and_truncation_is_caught_against_it(
    store_url: str, start_control: StartControl, tmp_path: Path
) -> None:
    witness_file = tmp_path / "witness" / "checkpoints.jsonl"
    control = await start_control(store_url, audit_witness_url=f"file://{witness_file}", audit_checkpoint_interval_s=0.2)
    async with control.runtime.store.transaction() as conn:
        await audit.append(conn, [record(i) for i in range(1, 8)])
    witness = FileWitness(witness_file)

    async def published() -> list[Checkpoint]:
        return [c for c in await witness.read() if c.tree_size == 7]

    await eventually(published)
    await control.runtime.stop()
    await Attacker(store_url).truncate_to(4)
    key_file = tmp_path / "audit-key.pem"
    result = await asyncio.to_thread(
        medic,
        "audit",
        "verify",
        "--database-url",
        store_url,
        "--witness",
        f"file://{witness_file}",
        "--public-key",
        str(key_file),
    )
    assert result.returncode == 1 and "truncated" in result.stderr and "row 5" in result.stderr


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True, timeout=60)
    return remote


async def test_checkpoints_committed_on_a_git_ref_of_the_forges_bare_remote_detect_a_rewrite(
    store: ServiceStore, store_url: str, key: Ed25519PrivateKey, bare_remote: Path
) -> None:
    witness = witness_from_url(f"git+file://{bare_remote}")
    assert isinstance(witness, GitWitness) and witness.ref == "refs/medic/audit-checkpoints"
    await fill(store, 1, 4)
    await witness.publish(await checkpoint_of(store, key))
    await fill(store, 5, 8)
    await witness.publish(await checkpoint_of(store, key))
    log = subprocess.run(
        ["git", f"--git-dir={bare_remote}", "rev-list", "--count", "refs/medic/audit-checkpoints"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert log.stdout.strip() == "2"  # one commit per checkpoint, the ref moving forward
    published = await witness.read()
    assert [c.tree_size for c in published] == [4, 8]
    assert (await verify(store, key, *published)).ok
    await Attacker(store_url).rewrite_from(store, 3, summary="approved")
    report = await verify(store, key, *published)
    assert not report.ok and report.first_bad_seq is not None and report.first_bad_seq <= 3


class _Witness(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - one server per test, reset there

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.headers.get("Authorization") == "Bearer witness-secret"
        type(self).received.append(json.loads(body))
        self.send_response(201)
        self.end_headers()

    def do_GET(self) -> None:
        payload = json.dumps(type(self).received).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def http_witness() -> Iterator[str]:
    _Witness.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Witness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
    server.shutdown()


async def test_a_running_control_api_posts_signed_checkpoints_to_an_http_witness(
    store_url: str, start_control: StartControl, http_witness: str, tmp_path: Path
) -> None:
    control = await start_control(
        store_url, audit_witness_url=http_witness, audit_witness_token="witness-secret", audit_checkpoint_interval_s=0.2
    )
    async with control.runtime.store.transaction() as conn:
        await audit.append(conn, [record(i) for i in range(1, 6)])

    async def published() -> list[Checkpoint]:
        return [c for c in await HttpWitness(http_witness, token="witness-secret").read() if c.tree_size == 5]

    (checkpoint,) = (await eventually(published))[:1]
    public = load_public_key(tmp_path / "audit-key.pem")
    assert check_checkpoint(checkpoint, public) is None
    sizes = [c["tree_size"] for c in _Witness.received]
    assert sizes == sorted(set(sizes))  # published when the tree grew, not on every tick


# ---- small helpers ---------------------------------------------------------------------------


def _fields(checkpoint: Checkpoint) -> dict[str, Any]:
    return {name: getattr(checkpoint, name) for name in Checkpoint.__slots__}


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
