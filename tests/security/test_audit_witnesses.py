"""Checkpoints kept outside the database: a file witness, a git ref on the forge's bare remote and an HTTP witness each
catch a truncation or a rewrite made with the database alone.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from medic_control.actions import service as audit
from medic_control.actions.checkpoint import Checkpoint, check_checkpoint
from medic_control.actions.keys import load_public_key
from medic_control.actions.witness import FileWitness, GitWitness, HttpWitness, witness_from_url
from medic_runtime.store import ServiceStore

from .audit_harness import Attacker, StartControl, checkpoint_of, eventually, fill, medic, record, verify


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
