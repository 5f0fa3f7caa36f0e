"""``medic audit head | verify | checkpoint``: the hash-chained audit trail, through the API or the store."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ..client import ClientConfig
from .output import emit, open_client, run_client
from .store import open_store, run_direct

__all__ = ["audit_checkpoint", "audit_head", "audit_verify"]


def audit_head(args: argparse.Namespace) -> int:
    """``medic audit head``: the chain's head hash, for export outside the database."""
    if args.database_url or not ClientConfig.load().from_env_or_file:

        async def direct() -> dict[str, Any]:
            from ..actions import service as audit

            async with open_store(args.database_url) as (engine, _schema), engine.connect() as conn:
                seq, digest = await audit.head(conn)
            return {"seq": seq, "hash": digest}

        result = run_direct(direct())
        if result is None:
            return 1
        emit(result, as_json=args.json, text=f"{result['seq']} {result['hash']}")
        return 0

    def go() -> int:
        with open_client() as client:
            head = client.audit_head()
        emit(head, as_json=args.json, text=f"{head['seq']} {head['hash']}")
        return 0

    return run_client(go)


def _checkpoints(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """The checkpoints named by ``--checkpoint FILE`` and ``--witness URL`` (None, printed, when unreadable)."""
    from ..actions.checkpoint import Checkpoint
    from ..actions.witness import WitnessError, witness_from_url

    found: list[Checkpoint] = []
    try:
        if getattr(args, "checkpoint", None):
            found += Checkpoint.parse_many(Path(args.checkpoint).read_text(encoding="utf-8"))
        if getattr(args, "witness", None):
            found += asyncio.run(witness_from_url(args.witness).read())
    except (OSError, ValueError, WitnessError) as exc:
        sys.stderr.write(f"medic: cannot read the checkpoint: {exc}\n")
        return None
    if (getattr(args, "checkpoint", None) or getattr(args, "witness", None)) and not found:
        sys.stderr.write("medic: no checkpoint found there\n")
        return None
    return [c.to_json() for c in found]


def _public_key(path: str | None) -> Any:
    """The checkpoints' public key: ``--public-key FILE``, else control-api's own key file (direct mode)."""
    from ..actions.keys import load_public_key
    from ..settings import ControlSettings

    return load_public_key(Path(path) if path else ControlSettings().resolved_audit_key_file())


def audit_verify(args: argparse.Namespace) -> int:
    """``medic audit verify [--checkpoint FILE] [--witness URL]``: recompute the trail; exit 1 naming the first bad entry."""
    checkpoints = _checkpoints(args)
    if checkpoints is None:
        return 1
    if args.database_url or not ClientConfig.load().from_env_or_file:

        async def direct() -> dict[str, Any]:
            from ..actions import service as audit
            from ..actions.checkpoint import Checkpoint

            public = _public_key(args.public_key) if checkpoints else None
            async with open_store(args.database_url) as (engine, _schema), engine.connect() as conn:
                report = await audit.verify(
                    conn,
                    expected_head=args.expected_head,
                    checkpoints=[Checkpoint.from_json(c) for c in checkpoints],
                    public_key=public,
                )
            return {
                "ok": report.ok,
                "rows": report.rows,
                "head_seq": report.head_seq,
                "head_hash": report.head_hash,
                "first_bad_seq": report.first_bad_seq,
                "first_bad_event_id": report.first_bad_event_id,
                "problem": report.problem,
                "tree_size": report.tree_size,
                "root_hash": report.root_hash,
            }

        try:
            result = run_direct(direct())
        except (OSError, ValueError) as exc:  # the public key file
            sys.stderr.write(f"medic: cannot read the public key: {exc}\n")
            return 1
        return 1 if result is None else _report(result, args)

    def go() -> int:
        with open_client() as client:
            if checkpoints and args.public_key:
                refused = _untrusted(checkpoints, args.public_key)
                if refused:
                    sys.stderr.write(f"medic: {refused}\n")
                    return 1
            return _report(client.audit_verify(expected_head=args.expected_head, checkpoints=checkpoints), args)

    return run_client(go)


def _untrusted(checkpoints: list[dict[str, Any]], key_file: str) -> str | None:
    """Why one of ``checkpoints`` is not signed by the key in ``key_file`` (None when all are)."""
    from ..actions.checkpoint import Checkpoint, check_checkpoint

    public = _public_key(key_file)
    for data in checkpoints:
        checkpoint = Checkpoint.from_json(data)
        problem = check_checkpoint(checkpoint, public)
        if problem is not None:
            return f"the checkpoint of size {checkpoint.tree_size} is not trusted: {problem.value}"
    return None


def audit_checkpoint(args: argparse.Namespace) -> int:
    """``medic audit checkpoint [--out FILE]``: the current signed tree head (appended to FILE as a JSON line)."""

    def go() -> int:
        with open_client() as client:
            checkpoint = client.audit_checkpoint()
        if args.out:
            with Path(args.out).open("a", encoding="utf-8") as out:
                out.write(json.dumps(checkpoint, separators=(",", ":")) + "\n")
        emit(checkpoint, as_json=args.json, text=f"{checkpoint['tree_size']} {checkpoint['root_hash']} {checkpoint['timestamp']}")
        return 0

    return run_client(go)


def _report(result: dict[str, Any], args: argparse.Namespace) -> int:
    if result["ok"]:
        emit(result, as_json=args.json, text=f"ok: {result['rows']} rows, head {result['head_seq']} {result['head_hash']}")
        return 0
    where = f" at row {result['first_bad_seq']}" if result.get("first_bad_seq") is not None else ""
    text = f"BROKEN{where}: {result['problem']}" + (
        f" (event {result['first_bad_event_id']})" if result.get("first_bad_event_id") else ""
    )
    emit(result, as_json=args.json, text=text, out=sys.stdout if args.json else sys.stderr)
    return 1
