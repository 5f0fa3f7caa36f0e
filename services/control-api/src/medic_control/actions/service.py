"""Appending to, reading and verifying the audit trail (agent_actions)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, insert, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import utcnow

from .. import bulk
from .chain import GENESIS, ChainEntry, PreparedEntry, chain_hash, clean, entry_hash, prepare_entry
from .models import Action, AuditLock

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

# The chain head as seen by the transaction that holds the append lock: read once per transaction.
_heads: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()


async def _locked_head(conn: AsyncConnection) -> tuple[int, str]:
    transaction = conn.sync_connection.get_transaction() if conn.sync_connection is not None else None
    if transaction is not None and transaction in _heads:
        return _heads[transaction]
    # Taking the lock row first serializes appenders (row lock on PostgreSQL, write lock on SQLite).
    await conn.execute(update(AuditLock).where(AuditLock.id == 1).values(appended=AuditLock.appended + 1))
    row = (await conn.execute(select(Action.seq, Action.hash).order_by(Action.seq.desc()).limit(1))).first()
    current = (int(row.seq), str(row.hash)) if row else (0, GENESIS)
    if transaction is not None:
        _heads[transaction] = current
    return current


async def append(conn: AsyncConnection, records: Sequence[AuditRecord]) -> dict[str, int]:
    """Append records to the chain in ``conn``'s transaction; a record whose event_id is present is skipped.

    Returns the seq of each record appended, by event id.
    """
    if not records:
        return {}
    pg = await bulk.driver(conn)
    if len(records) == 1:
        fresh = list(records)  # one record: the insert itself skips a duplicate (no separate lookup)
    else:
        ids = [r.event_id for r in records]
        if pg is not None:
            existing = await bulk.existing_keys(conn, pg, _actions, column="event_id", keys=ids)
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
    seq, prev = await _locked_head(conn)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for entry in prepared:
        seq += 1
        digest = chain_hash(prev, entry.canonical(seq=seq, recorded_at=now))
        rows.append({**entry.fields, "seq": seq, "recorded_at": now, "prev_hash": prev, "hash": digest})
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
    if len(rows) == 1:
        # One record (an API write, a single event): the insert itself skips a duplicate.
        if pg is not None:
            inserted = await pg.fetchval(_insert_one_sql(bulk.table_name(conn, _actions)), *values[0])
        else:
            stmt = _insert_ignore(conn).values(**rows[0]).on_conflict_do_nothing(index_elements=["event_id"])
            inserted = (await conn.execute(stmt.returning(Action.seq))).scalar()
        if inserted is None:
            return {}  # already recorded: the head did not move
    elif pg is not None:
        await bulk.copy_rows(conn, pg, _actions, columns=_ACTION_COLUMNS, rows=values)
    else:
        await conn.execute(insert(Action), rows)
    transaction = conn.sync_connection.get_transaction() if conn.sync_connection is not None else None
    if transaction is not None:
        _heads[transaction] = (seq, prev)
    return {r["event_id"]: r["seq"] for r in rows}


@functools.cache
def _insert_one_sql(table: str) -> str:
    return bulk.insert_sql(table, _ACTION_COLUMNS) + " ON CONFLICT (event_id) DO NOTHING RETURNING seq"


def _insert_ignore(conn: AsyncConnection) -> Any:
    if conn.dialect.name == "postgresql":
        return pg_insert(Action)
    return sqlite_insert(Action)


async def head(conn: AsyncConnection) -> tuple[int, str]:
    """The last entry's seq and hash ((0, GENESIS) when the trail is empty)."""
    row = (await conn.execute(select(Action.seq, Action.hash).order_by(Action.seq.desc()).limit(1))).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of recomputing the chain."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_event_id: str | None = None
    problem: str | None = None


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


async def verify(conn: AsyncConnection, *, expected_head: str | None = None, chunk: int = 2000) -> VerifyReport:
    """Recompute every hash in order; report the first row that is edited, missing or out of place.

    ``expected_head`` (a hash exported earlier with ``medic audit head``) must appear in the chain:
    otherwise the rows after it were deleted or rewritten.
    """
    prev, expected_seq, rows, seen_expected = GENESIS, 1, 0, expected_head is None
    last_seq = 0
    while True:
        batch = (await conn.execute(select(Action).where(Action.seq >= expected_seq).order_by(Action.seq).limit(chunk))).all()
        if not batch:
            break
        for row in batch:
            if row.seq != expected_seq:
                return VerifyReport(
                    False, rows, last_seq, prev, expected_seq, None, f"row {expected_seq} is missing (next row is {row.seq})"
                )
            if row.prev_hash != prev:
                return VerifyReport(
                    False, rows, last_seq, prev, row.seq, row.event_id, f"row {row.seq} does not link to row {row.seq - 1}"
                )
            if entry_hash(prev, _entry(row)) != row.hash:
                return VerifyReport(
                    False, rows, last_seq, prev, row.seq, row.event_id, f"row {row.seq} was modified (hash mismatch)"
                )
            prev, last_seq, expected_seq, rows = row.hash, row.seq, row.seq + 1, rows + 1
            seen_expected = seen_expected or row.hash == expected_head
    if not seen_expected:
        return VerifyReport(
            False, rows, last_seq, prev, last_seq + 1, None, "the exported head is not in the chain: rows after it were removed"
        )
    return VerifyReport(True, rows, last_seq, prev)


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
