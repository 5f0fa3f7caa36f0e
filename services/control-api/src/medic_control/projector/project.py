"""``project``: one batch of delivered events into the store, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import ApprovalRequested, CommandName, ControlCommand, DeadLetter, Envelope, utcnow

from .. import postgres_bulk
from ..actions import service as audit
from ..issues.lifecycle import IssueStatus, status_for
from ..strategies import service as strategies
from .approvals import open_approval
from .audit_entry import audit_record
from .dead_letters import keep_dead_letter
from .issue_rows import (
    ISSUE_COLUMNS,
    ISSUE_KEYED,
    ISSUES,
    UPDATED_COLUMNS,
    apply_facts,
    apply_status,
    brief_of,
    issues_known_to,
    new_issue,
    pg_values,
    touches_issue,
)

__all__ = ["Delivered", "ProjectionResult", "project"]


@dataclass(frozen=True, slots=True)
class Delivered:
    """An event to project and, when it is a replay, the id of the event it replays."""

    event: Envelope
    replay_of: str | None = None

    @property
    def key(self) -> str:
        """The id the projection is keyed by: the original event's."""
        return self.replay_of or self.event.event_id


@dataclass(frozen=True, slots=True)
class ProjectionResult:
    """What a batch changed."""

    appended: int
    duplicates: int
    issues_created: int
    issues_updated: int


async def project(conn: AsyncConnection, batch: Sequence[Delivered]) -> ProjectionResult:
    """Project a batch of events in ``conn``'s transaction (idempotent on each event's key)."""
    wanted = [d for d in batch if not (isinstance(d.event, ControlCommand) and d.event.command is CommandName.STATE_SNAPSHOT)]
    records = [audit_record(d.event, d.key) for d in wanted]
    appended = await audit.append(conn, records)
    first: dict[str, Delivered] = {}
    for d in wanted:
        if d.key in appended:
            first.setdefault(d.key, d)  # one projection per key, even within a batch
    fresh = list(first.values())
    await strategies.project(conn, [(d.key, d.event) for d in fresh])

    known = issues_known_to(conn)
    wanted_ids = sorted({d.event.issue_id for d in fresh if d.event.issue_id and touches_issue(d.event)} - set(known.rows))
    pg = await postgres_bulk.driver(conn)
    if wanted_ids:
        if pg is not None:
            found = await postgres_bulk.select_by_keys(conn, pg, ISSUES, columns=ISSUE_COLUMNS, key="id", keys=wanted_ids)
        else:
            found = [dict(r) for r in (await conn.execute(select(ISSUES).where(ISSUES.c.id.in_(wanted_ids)))).mappings()]
        for r in found:
            known.rows[r["id"]] = r
            known.persisted.add(r["id"])
        for issue_id in wanted_ids:
            known.rows.setdefault(issue_id, None)
    rows = known.rows
    changed: set[str] = set()
    now = utcnow()
    superseded: list[audit.AuditRecord] = []
    for d in fresh:
        event = d.event
        if isinstance(event, ApprovalRequested):
            superseded += await open_approval(conn, event, now)
        elif isinstance(event, DeadLetter):
            await keep_dead_letter(conn, event, d.key, now)
        if not event.issue_id or not touches_issue(event):
            continue
        row = rows.get(event.issue_id)
        if row is None:
            brief = brief_of(event)
            reported = status_for(event)
            if brief is None or reported is None:
                continue  # nothing to build an issue from (e.g. an action about an unknown issue)
            row = new_issue(event, brief, IssueStatus.DETECTED if reported is IssueStatus.REOPENED else reported)
            rows[event.issue_id] = row
            changed.add(event.issue_id)
        before = dict(row)
        apply_status(row, event)
        apply_facts(row, event)
        if row != before:  # most actions only add to the timeline: no issue write for them
            row["updated_at"] = now
            changed.add(event.issue_id)
    written = {i: row for i in sorted(changed) if (row := rows.get(i)) is not None}
    created = [row for i, row in written.items() if i not in known.persisted]
    updated = [row for i, row in written.items() if i in known.persisted]
    if created and pg is not None:
        await postgres_bulk.copy_rows(
            conn, pg, ISSUES, columns=ISSUE_COLUMNS, rows=[pg_values(row, ISSUE_COLUMNS) for row in created]
        )
    elif created:
        await conn.execute(insert(ISSUES), created)
    known.persisted.update(r["id"] for r in created)
    if updated and pg is not None:
        await postgres_bulk.update_rows(
            conn, pg, ISSUES, key="id", columns=UPDATED_COLUMNS, rows=[pg_values(row, ISSUE_KEYED) for row in updated]
        )
    elif updated:
        stmt = update(ISSUES).where(ISSUES.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in UPDATED_COLUMNS})
        await conn.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in updated])
    if superseded:
        await audit.append(conn, superseded)
    return ProjectionResult(len(appended), len(batch) - len(appended), len(created), len(updated))
