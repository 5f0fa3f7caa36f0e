"""Appending to, reading and verifying the audit trail (agent_actions)."""

from __future__ import annotations

import functools
import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import utcnow

from .. import postgres_bulk
from .chain import GENESIS, PreparedEntry, clean, prepare_entry
from .merkle import CompactRange, leaf_hash
from .models import Action, AuditLock
from .verify import VerifyReport, verify

__all__ = ["ActionFilter", "AuditRecord", "VerifyReport", "append", "head", "list_actions", "verify"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What to append: one audited step (seq, time recorded and hashes are assigned on append)."""

    event_id: str
    event_type: str
    issue_id: str | None
    occurred_at: datetime
    service: str
    actor: str
    action: str
    status: str
    summary: str
    reasoning: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


_actions: Table = Action.__table__  # type: ignore[assignment]
_ACTION_COLUMNS = tuple(c.name for c in _actions.columns)


@dataclass(slots=True)
class _Head:
    """The trail's head under the append lock: the last seq and hash, and the Merkle tree's compact range."""

    seq: int
    hash: str
    tree: CompactRange


# The head as seen by the transaction that holds the append lock: read once per transaction.
_heads: weakref.WeakKeyDictionary[Any, _Head] = weakref.WeakKeyDictionary()


def _transaction(conn: AsyncConnection) -> Any:
    return conn.sync_connection.get_transaction() if conn.sync_connection is not None else None


async def _locked_head(conn: AsyncConnection) -> _Head:
    transaction = _transaction(conn)
    if transaction is not None and transaction in _heads:
        return _heads[transaction]
    # Taking the lock row first serializes appenders (row lock on PostgreSQL, write lock on SQLite).
    locked = (
        await conn.execute(
            update(AuditLock)
            .where(AuditLock.id == 1)
            .values(appended=AuditLock.appended + 1)
            .returning(AuditLock.tree_size, AuditLock.compact_range)
        )
    ).one()
    row = (await conn.execute(select(Action.seq, Action.hash).order_by(Action.seq.desc()).limit(1))).first()
    seq, digest = (int(row.seq), str(row.hash)) if row else (0, GENESIS)
    tree: CompactRange | None
    try:
        tree = CompactRange.decode(int(locked.tree_size), str(locked.compact_range))
    except ValueError:
        tree = None
    if tree is None or tree.size != seq:
        # Out of step with the rows (edited by hand): rebuild it from the stored leaves, once.
        tree = CompactRange()
        for leaf in (await conn.execute(select(Action.leaf_hash).order_by(Action.seq))).scalars():
            tree.append(bytes.fromhex(leaf))
    current = _Head(seq, digest, tree)
    if transaction is not None:
        _heads[transaction] = current
    return current


async def append(conn: AsyncConnection, records: Sequence[AuditRecord]) -> dict[str, int]:
    """Append records to the chain and the Merkle tree in ``conn``'s transaction; a record whose event_id is present is skipped.

    Returns the seq of each record appended, by event id.
    """
    if not records:
        return {}
    pg = await postgres_bulk.driver(conn)
    if len(records) == 1 and pg is not None:
        fresh = list(records)  # one record: the insert itself skips a duplicate (no separate lookup)
    else:
        # SQLite checks first: its insert guard refuses a present event id outright (so REPLACE cannot delete it).
        ids = [r.event_id for r in records]
        if pg is not None:
            existing = await postgres_bulk.existing_keys(conn, pg, _actions, column="event_id", keys=ids)
        else:
            existing = set((await conn.execute(select(Action.event_id).where(Action.event_id.in_(ids)))).scalars())
        fresh = []
        for record in records:
            if record.event_id not in existing:
                existing.add(record.event_id)
                fresh.append(record)
        if not fresh:
            return {}
    # Encoded before the lock: under it, only seq, time recorded and the hashes are added.
    prepared: list[PreparedEntry] = []
    for record in fresh:
        prepared.append(
            prepare_entry(
                event_id=record.event_id,
                event_type=record.event_type,
                issue_id=record.issue_id,
                occurred_at=record.occurred_at,
                service=clean(record.service),
                actor=clean(record.actor),
                action=clean(record.action),
                status=record.status,
                summary=clean(record.summary),
                reasoning=clean(record.reasoning),
                details=record.details,
            )
        )
    head = await _locked_head(conn)
    seq, prev, tree = head.seq, head.hash, head.tree.copy()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for entry in prepared:
        seq += 1
        leaf = entry.canonical(seq=seq, recorded_at=now).encode("utf-8")
        digest = hashlib.sha256(prev.encode("ascii") + leaf).hexdigest()  # chain_hash, on bytes encoded once
        node = leaf_hash(leaf)
        tree.append(node)
        rows.append({**entry.fields, "seq": seq, "recorded_at": now, "prev_hash": prev, "hash": digest, "leaf_hash": node.hex()})
        prev = digest
    # On PostgreSQL the details column takes the details' canonical JSON, already encoded for the hash.
    values = (
        [
            [entry.details_json if c == "details" else r[c] for c in _ACTION_COLUMNS]
            for r, entry in zip(rows, prepared, strict=True)
        ]
        if pg is not None
        else []
    )
    if len(rows) == 1 and pg is not None:
        # One record (an API write, a single event): the insert itself skips a duplicate.
        inserted = await pg.fetchval(_insert_one_sql(postgres_bulk.table_name(conn, _actions)), *values[0])
        if inserted is None:
            return {}  # already recorded: the head did not move
    elif pg is not None:
        await postgres_bulk.copy_rows(conn, pg, _actions, columns=_ACTION_COLUMNS, rows=values)
    else:
        await conn.execute(insert(Action), rows)
    await conn.execute(update(AuditLock).where(AuditLock.id == 1).values(tree_size=tree.size, compact_range=tree.encode()))
    transaction = _transaction(conn)
    if transaction is not None:
        _heads[transaction] = _Head(seq, prev, tree)
    return {r["event_id"]: r["seq"] for r in rows}


@functools.cache
def _insert_one_sql(table: str) -> str:
    return postgres_bulk.insert_sql(table, _ACTION_COLUMNS) + " ON CONFLICT (event_id) DO NOTHING RETURNING seq"


async def head(conn: AsyncConnection) -> tuple[int, str]:
    """The last entry's seq and hash ((0, GENESIS) when the trail is empty)."""
    row = (await conn.execute(select(Action.seq, Action.hash).order_by(Action.seq.desc()).limit(1))).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


@dataclass(frozen=True, slots=True)
class ActionFilter:
    """Filters of the audit trail listing."""

    issue_id: str | None = None
    action: str | None = None
    service: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_seq: int | None = None
    after_seq: int | None = None


async def list_actions(conn: AsyncConnection, *, filters: ActionFilter, limit: int, newest_first: bool = True) -> list[Any]:
    """Audit rows matching ``filters`` (newest first unless asked otherwise)."""
    conds: list[Any] = []
    if filters.issue_id:
        conds.append(Action.issue_id == filters.issue_id)
    if filters.action:
        conds.append(or_(Action.action == filters.action, Action.action.like(filters.action.replace("%", "") + ".%")))
    if filters.service:
        conds.append(Action.service == filters.service)
    if filters.status:
        conds.append(Action.status == filters.status)
    if filters.since:
        conds.append(Action.occurred_at >= filters.since)
    if filters.until:
        conds.append(Action.occurred_at < filters.until)
    if filters.before_seq is not None:
        conds.append(Action.seq < filters.before_seq)
    if filters.after_seq is not None:
        conds.append(Action.seq > filters.after_seq)
    order = Action.seq.desc() if newest_first else Action.seq
    stmt = select(Action).where(and_(true(), *conds)).order_by(order).limit(limit)
    return list((await conn.execute(stmt)).all())


async def count_actions(conn: AsyncConnection) -> int:
    """How many entries the trail holds."""
    return int((await conn.execute(select(func.count()).select_from(Action))).scalar_one())


async def lock(conn: AsyncConnection) -> None:
    """Take the append lock now (first statement of an API write, so SQLite takes its write lock early)."""
    await _locked_head(conn)
