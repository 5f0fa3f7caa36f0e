"""What the ``medic`` CLI commands of control-api do (the CLI modules only parse arguments).

Every command but ``token create --database-url`` and ``audit … --database-url`` is a client of
the REST API. Exit status: 0 done, 1 refused or failed (the reason is printed), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx

from .client import ApiError, ClientConfig, ControlClient

if TYPE_CHECKING:  # SQLAlchemy is only for the --database-url commands: `medic pause` must not pay for it
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "approvals",
    "approve",
    "audit_checkpoint",
    "audit_head",
    "audit_verify",
    "issues",
    "pause",
    "reject",
    "resume",
    "rollback",
    "scan",
    "status",
    "token_create",
]


def _client() -> ControlClient:
    return ControlClient(ClientConfig.load())


def _print(data: Any, *, as_json: bool, text: str, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    stream.write((json.dumps(data, indent=2, default=str) if as_json else text) + "\n")


def _run(fn: Any) -> int:
    try:
        return int(fn())
    except ApiError as exc:
        sys.stderr.write(f"medic: {exc.message} ({exc.status})\n")
        return 1
    except (OSError, httpx.TransportError) as exc:  # connection refused, DNS, timeouts: say where we tried
        sys.stderr.write(f"medic: cannot reach control-api at {ClientConfig.load().api_url}: {exc}\n")
        return 1


def status(args: argparse.Namespace) -> int:
    """``medic status``: pause state, autonomy level, config version, pending approvals."""

    def go() -> int:
        with _client() as client:
            state = client.state()
            pending = client.approvals(status="pending")
        config = state["config"]
        mode = f"PAUSED ({state['reason'] or 'no reason given'})" if state["paused"] else "running"
        if not config.get("active", True):
            mode = "DEACTIVATED (kill switch)"
        text = (
            f"mode: {mode}\nautonomy level: {config['autonomy_level']}\nconfig version: {config['version']}\n"
            f"pending approvals: {len(pending)}"
        )
        _print({**state, "pending_approvals": len(pending)}, as_json=args.json, text=text)
        return 0

    return _run(go)


def pause(args: argparse.Namespace) -> int:
    """``medic pause [--reason R]``."""
    return _run(lambda: _command(args, lambda c: c.pause(args.reason), "paused"))


def resume(args: argparse.Namespace) -> int:
    """``medic resume [--reason R]``."""
    return _run(lambda: _command(args, lambda c: c.resume(args.reason), "resumed"))


def scan(args: argparse.Namespace) -> int:
    """``medic scan [--target T]``."""
    return _run(lambda: _command(args, lambda c: c.scan(target=args.target, reason=args.reason), "scan requested"))


def rollback(args: argparse.Namespace) -> int:
    """``medic rollback ISSUE_ID --reason R``."""
    return _run(lambda: _command(args, lambda c: c.rollback(args.issue_id, reason=args.reason), "rollback requested"))


def false_positive(args: argparse.Namespace) -> int:
    """``medic false-positive ISSUE_ID --reason R [--clear]``."""
    verb = "false-positive mark cleared" if args.clear else "marked as a false positive"
    return _run(
        lambda: _command(args, lambda c: c.false_positive(args.issue_id, reason=args.reason, false_positive=not args.clear), verb)
    )


def review(args: argparse.Namespace) -> int:
    """``medic review [--until ISO] [--send]``: the weekly review beside the targets (``--send`` delivers it)."""

    def go() -> int:
        with _client() as client:
            week = client.weekly_review(until=args.until)
            sent = client.send_weekly_review(until=args.until) if args.send else None
        lines = [
            f"Weekly review {week['since'][:10]} – {week['until'][:10]}: "
            f"{week['targets_met']}/{week['targets_judged']} targets met"
        ]
        for m in week["metrics"]:
            verdict = {True: "met", False: "MISSED", None: ""}[m["met"]]
            target = f"target {m['target']:<7} {verdict}" if m["target"] else ""
            lines.append(f"  {m['label']:<48} {m['display']:<18} {target}".rstrip())
        lines.append(f"P4 issues ({len(week['p4_issues'])}):")
        lines += [
            f"  {i['id']}  {i['occurrences']:>5}x  {i['title'][:90]}" + ("  [false positive]" if i["false_positive"] else "")
            for i in week["p4_issues"]
        ] or ["  none"]
        if sent is not None:
            lines.append(
                f"sent to: {', '.join(sent['delivered']) or 'no channel configured'}"
                + "".join(f"; {k} failed: {v}" for k, v in sent["failed"].items())
            )
        _print({"review": week, "sent": sent} if args.send else week, as_json=args.json, text="\n".join(lines))
        return 0

    return _run(go)


def _command(args: argparse.Namespace, call: Any, verb: str) -> int:
    with _client() as client:
        result = call(client)
    _print(result, as_json=args.json, text=f"{verb} (event {result['event_id']})")
    return 0


def approvals(args: argparse.Namespace) -> int:
    """``medic approvals [--status S]``: approval requests (pending by default)."""

    def go() -> int:
        with _client() as client:
            items = client.approvals(status=None if args.status == "all" else args.status)
        lines = [
            f"{a['id']}  {a['status']:<8} {a['kind']:<8} {a['issue_id']}  by {a['requested_by']}"
            f"  expires {a['expires_at']}\n    {a['reason']}"
            for a in items
        ]
        _print(items, as_json=args.json, text="\n".join(lines) or "no approvals")
        return 0

    return _run(go)


def approve(args: argparse.Namespace) -> int:
    """``medic approve ID``: show the diff, confirm, approve it bound to the hash that was shown."""

    def go() -> int:
        with _client() as client:
            approval = client.approval(args.approval_id)
            diff_hash = args.diff_hash or approval["diff_hash"]
            if not args.diff_hash and not args.yes:
                sys.stdout.write(f"{approval['kind']} approval for {approval['issue_id']}: {approval['reason']}\n")
                sys.stdout.write(approval["diff"] + "\n" if approval["diff"] else "(no diff)\n")
                sys.stdout.write(f"diff hash {diff_hash}\napprove? [y/N] ")
                sys.stdout.flush()
                if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                    sys.stderr.write("medic: not approved\n")
                    return 1
            result = client.approve(args.approval_id, diff_hash=diff_hash, reason=args.reason)
        _print(result, as_json=args.json, text=f"approved {result['id']} ({result['kind']} for {result['issue_id']})")
        return 0

    return _run(go)


def reject(args: argparse.Namespace) -> int:
    """``medic reject ID --reason R``."""

    def go() -> int:
        with _client() as client:
            result = client.reject(args.approval_id, reason=args.reason)
        _print(result, as_json=args.json, text=f"rejected {result['id']}")
        return 0

    return _run(go)


def issues(args: argparse.Namespace) -> int:
    """``medic issues [--status S] [--severity P] [--limit N]`` or ``medic issues ID`` for one issue."""

    def go() -> int:
        with _client() as client:
            if args.issue_id:
                issue = client.issue(args.issue_id)
                lines = [f"{issue['id']} {issue['severity']} {issue['status']}: {issue['title']}"]
                if issue.get("root_cause"):
                    lines.append(f"root cause: {issue['root_cause']}")
                lines += [f"  {a['occurred_at']}  {a['action']:<32} {a['status']:<9} {a['summary']}" for a in issue["timeline"]]
                _print(issue, as_json=args.json, text="\n".join(lines))
                return 0
            page = client.issues(status=args.status, severity=args.severity, limit=args.limit, cursor=args.cursor)
        lines = [
            f"{i['id']:<24} {i['severity']} {i['status']:<18} {i['detected_at'][:19]}  {i['title'][:70]}" for i in page["items"]
        ]
        if page.get("next_cursor"):
            lines.append(f"more: --cursor {page['next_cursor']}")
        _print(page, as_json=args.json, text="\n".join(lines) or "no issues")
        return 0

    return _run(go)


def _store_url(database_url: str | None) -> str:
    """control-api's store: ``--database-url``, else MEDIC_STORE_URL, else ./medic.db (as the service defaults)."""
    return database_url or os.environ.get("MEDIC_STORE_URL") or f"sqlite+aiosqlite:///{Path('medic.db').resolve()}"


@asynccontextmanager
async def _store(database_url: str | None) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    from sqlalchemy.exc import DBAPIError

    from .db import open_engine

    url = _store_url(database_url)
    if url.startswith("sqlite") and not await asyncio.to_thread(Path(url.split("///", 1)[-1]).exists):
        raise StoreUnavailable(f"no audit store at {url} (start control-api, or pass --database-url)")
    engine, schema = open_engine(url)
    try:
        yield engine, schema
    except DBAPIError as exc:
        raise StoreUnavailable(f"cannot read the audit store at {url}: {exc.orig}") from None
    finally:
        await engine.dispose()


class StoreUnavailable(RuntimeError):
    """The store named on the command line cannot be read."""


def _direct(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except StoreUnavailable as exc:
        sys.stderr.write(f"medic: {exc}\n")
        return None


def token_create(args: argparse.Namespace) -> int:
    """``medic token create --role R [--name N]``: through the API (admin token), or straight into the store."""
    from .auth.schemas import Role

    name = args.name or f"{args.role}-{__import__('secrets').token_hex(3)}"
    config = ClientConfig.load()
    if not args.database_url and config.from_env_or_file and config.token:
        return _run(lambda: _print_token(ControlClient(config).create_token(name=name, role=args.role), args))

    url = _store_url(args.database_url)

    async def direct() -> dict[str, Any]:
        from .auth import service as tokens
        from .db import migrate, open_engine

        engine, schema = open_engine(url)
        try:
            await migrate(engine, schema=schema)  # a token may be the first thing a new store holds
            async with engine.begin() as conn:
                created = await tokens.create_token(conn, name=name, role=Role.parse(args.role), created_by="medic token create")
        finally:
            await engine.dispose()
        return created.model_dump(mode="json")

    from sqlalchemy.exc import DBAPIError

    from .errors import ControlError

    try:
        result = asyncio.run(direct())
    except ControlError as exc:
        sys.stderr.write(f"medic: {exc.message}\n")
        return 1
    except DBAPIError as exc:
        sys.stderr.write(f"medic: cannot write the store: {exc.orig}\n")
        return 1
    return _print_token(result, args)


def _print_token(result: dict[str, Any], args: argparse.Namespace) -> int:
    _print(
        result,
        as_json=args.json,
        text=f"{result['token']}\n(name {result['name']}, role {result['role']}: shown once, store it now)",
    )
    return 0


def audit_head(args: argparse.Namespace) -> int:
    """``medic audit head``: the chain's head hash, for export outside the database."""
    if args.database_url or not ClientConfig.load().from_env_or_file:

        async def direct() -> dict[str, Any]:
            from .actions import service as audit

            async with _store(args.database_url) as (engine, _schema), engine.connect() as conn:
                seq, digest = await audit.head(conn)
            return {"seq": seq, "hash": digest}

        result = _direct(direct())
        if result is None:
            return 1
        _print(result, as_json=args.json, text=f"{result['seq']} {result['hash']}")
        return 0

    def go() -> int:
        with _client() as client:
            head = client.audit_head()
        _print(head, as_json=args.json, text=f"{head['seq']} {head['hash']}")
        return 0

    return _run(go)


def _checkpoints(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """The checkpoints named by ``--checkpoint FILE`` and ``--witness URL`` (None, printed, when unreadable)."""
    from .actions.checkpoint import Checkpoint
    from .actions.witness import WitnessError, witness_from_url

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
    from .actions.keys import load_public_key
    from .settings import ControlSettings

    return load_public_key(Path(path) if path else ControlSettings().resolved_audit_key_file())


def audit_verify(args: argparse.Namespace) -> int:
    """``medic audit verify [--checkpoint FILE] [--witness URL]``: recompute the trail; exit 1 naming the first bad entry."""
    checkpoints = _checkpoints(args)
    if checkpoints is None:
        return 1
    if args.database_url or not ClientConfig.load().from_env_or_file:

        async def direct() -> dict[str, Any]:
            from .actions import service as audit
            from .actions.checkpoint import Checkpoint

            public = _public_key(args.public_key) if checkpoints else None
            async with _store(args.database_url) as (engine, _schema), engine.connect() as conn:
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
            result = _direct(direct())
        except (OSError, ValueError) as exc:  # the public key file
            sys.stderr.write(f"medic: cannot read the public key: {exc}\n")
            return 1
        return 1 if result is None else _report(result, args)

    def go() -> int:
        with _client() as client:
            if checkpoints and args.public_key:
                refused = _untrusted(checkpoints, args.public_key)
                if refused:
                    sys.stderr.write(f"medic: {refused}\n")
                    return 1
            return _report(client.audit_verify(expected_head=args.expected_head, checkpoints=checkpoints), args)

    return _run(go)


def _untrusted(checkpoints: list[dict[str, Any]], key_file: str) -> str | None:
    """Why one of ``checkpoints`` is not signed by the key in ``key_file`` (None when all are)."""
    from .actions.checkpoint import Checkpoint, check_checkpoint

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
        with _client() as client:
            checkpoint = client.audit_checkpoint()
        if args.out:
            with Path(args.out).open("a", encoding="utf-8") as out:
                out.write(json.dumps(checkpoint, separators=(",", ":")) + "\n")
        _print(
            checkpoint, as_json=args.json, text=f"{checkpoint['tree_size']} {checkpoint['root_hash']} {checkpoint['timestamp']}"
        )
        return 0

    return _run(go)


def _report(result: dict[str, Any], args: argparse.Namespace) -> int:
    if result["ok"]:
        _print(result, as_json=args.json, text=f"ok: {result['rows']} rows, head {result['head_seq']} {result['head_hash']}")
        return 0
    where = f" at row {result['first_bad_seq']}" if result.get("first_bad_seq") is not None else ""
    text = f"BROKEN{where}: {result['problem']}" + (
        f" (event {result['first_bad_event_id']})" if result.get("first_bad_event_id") else ""
    )
    _print(result, as_json=args.json, text=text, out=sys.stdout if args.json else sys.stderr)
    return 1
