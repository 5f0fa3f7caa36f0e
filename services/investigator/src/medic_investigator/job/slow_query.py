"""Diagnose a slow-query ``performance`` issue: EXPLAIN it (never ANALYZE) and propose an index for approval.

The watcher's slow-query sources tag the issue with ``medic.slow_query`` and the normalised query
(``$n`` parameters) or, from the statistics views, the table read by sequential scans. The plan comes
from :meth:`ReadOnlyDatabase.explain` (a generic plan inside a read-only transaction); a filtered
sequential scan with no index leading on its columns becomes an :class:`IndexProposal`: a new file
under ``supabase/migrations/``, which is a protected path, so the diagnosis is ``index_proposal`` with
``needs_human`` set (the implementer writes nothing) and an ApprovalRequested carries the migration's
diff for a human to approve and apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from medic_contracts import (
    ApprovalKind,
    ApprovalRequested,
    DiagnosisReady,
    Evidence,
    FixStrategy,
    IssueDetected,
    MedicConfig,
    Producer,
    utcnow,
)
from medic_runtime import Redactor

from ..adapters.database import IndexInfo, ReadOnlyDatabase
from ..domain.errors import QueryFailed
from ..domain.slow_query import IndexProposal, index_proposal, seq_scans
from ..domain.sql_guard import QueryRefused
from ..domain.untrusted import truncate

__all__ = ["SLOW_QUERY_TAG", "SlowQueryOutcome", "diagnose_slow_query", "is_slow_query"]

SLOW_QUERY_TAG = "medic.slow_query"
MIGRATIONS_DIR = "supabase/migrations"


@dataclass(frozen=True, slots=True)
class SlowQueryOutcome:
    """The diagnosis, and the approval request when there is an index to propose."""

    event: DiagnosisReady
    approval: ApprovalRequested | None = None
    proposal: IndexProposal | None = None


def is_slow_query(issue: IssueDetected) -> bool:
    """Whether the watcher raised this issue from slow-query statistics."""
    return issue.tags.get(SLOW_QUERY_TAG) == "true"


async def diagnose_slow_query(
    issue: IssueDetected,
    *,
    database: ReadOnlyDatabase | None,
    producer: Producer,
    config: MedicConfig | None = None,
    redactor: Redactor | None = None,
    now: datetime | None = None,
    migrations_dir: str = MIGRATIONS_DIR,
) -> SlowQueryOutcome:
    """EXPLAIN the issue's query and propose an index (always awaiting approval), or hand it to a human."""
    redactor = redactor or Redactor()
    moment = now or utcnow()
    query = issue.tags.get("query", "").strip()
    evidence: list[Evidence] = [
        Evidence(kind="metric", summary=truncate(issue.message, 900), source=issue.source),
    ]

    def human(reason: str) -> SlowQueryOutcome:
        return SlowQueryOutcome(
            event=_diagnosis(
                issue,
                producer=producer,
                root_cause=f"slow query: {reason}",
                strategy=FixStrategy.NEEDS_HUMAN,
                hint=None,
                evidence=evidence,
                file=None,
                confidence=0.4,
                redactor=redactor,
            )
        )

    if database is None:
        return human("the target has no [database] section, so Medic cannot EXPLAIN it; a human should look at the plan")
    if not query:
        table = issue.tags.get("table", "an unknown table")
        return human(f"{table} is read by large sequential scans but no query text was captured to EXPLAIN")
    try:
        plan = await database.explain(query)
    except (QueryRefused, QueryFailed) as exc:
        evidence.append(Evidence(kind="sql", summary=f"EXPLAIN not possible: {exc}"[:1000], detail=truncate(query, 500)))
        return human(f"EXPLAIN failed: {exc}")
    evidence.append(
        Evidence(
            kind="sql",
            summary="EXPLAIN (generic plan, not executed)",
            detail=truncate(json.dumps(plan.get("Plan", plan), default=str), 1800),
            source="explain",
        )
    )
    for scan in seq_scans(plan):
        existing = [index.columns for index in await _indexes(database, scan.schema, scan.table)]
        proposal = index_proposal(scan, existing=existing, migrations_dir=migrations_dir, now=moment, query=query)
        if proposal is None:
            continue
        evidence.append(Evidence(kind="sql", summary=truncate(proposal.reason, 900), source=f"{scan.schema}.{scan.table}"))
        event = _diagnosis(
            issue,
            producer=producer,
            root_cause=f"slow query: {proposal.reason}",
            strategy=FixStrategy.INDEX_PROPOSAL,
            hint=f"add migration {proposal.migration_path}:\n{proposal.sql}",
            evidence=evidence,
            file=proposal.migration_path,
            confidence=0.75,
            redactor=redactor,
        )
        ttl = (config or MedicConfig()).approval_ttl_minutes
        approval = event.follow_up(
            ApprovalRequested,
            producer=producer,
            approval_id=f"apr_{issue.issue_id}_index_{proposal.diff_hash[7:19]}",
            kind=ApprovalKind.FIX,
            requested_by=producer.instance,
            reason=f"index proposal: {migrations_dir}/*.sql is a protected path; a human approves and applies it",
            summary=f"{proposal.sql} ({proposal.migration_path})",
            diff=proposal.diff,
            diff_hash=proposal.diff_hash,
            expires_at=moment + timedelta(minutes=ttl),
            issue=issue.brief(),
        )
        return SlowQueryOutcome(event=event, approval=approval, proposal=proposal)
    return human("the plan shows no filtered sequential scan without an index; a query change may be needed")


async def _indexes(database: ReadOnlyDatabase, schema: str, table: str) -> list[IndexInfo]:
    try:
        return list(await database.indexes(schema, table))
    except QueryFailed:
        return []


def _diagnosis(
    issue: IssueDetected,
    *,
    producer: Producer,
    root_cause: str,
    strategy: FixStrategy,
    hint: str | None,
    evidence: list[Evidence],
    file: str | None,
    confidence: float,
    redactor: Redactor,
) -> DiagnosisReady:
    return DiagnosisReady(
        producer=producer,
        issue_id=issue.issue_id,
        correlation_id=issue.correlation_id,
        causation_id=issue.event_id,
        issue=issue.brief(),
        root_cause=redactor.text(root_cause, max_length=4900),
        affected_file=file,
        fix_strategy=strategy,
        fix_hint=redactor.text(hint, max_length=4900) if hint else None,
        confidence=confidence,
        fixability=0.5 if strategy is FixStrategy.INDEX_PROPOSAL else 0.1,
        needs_human=True,  # schema changes always go through a human
        estimated_fix_time=timedelta(minutes=30),
        evidence=tuple(
            Evidence(
                kind=e.kind,
                summary=redactor.text(e.summary, max_length=1000),
                detail=redactor.text(e.detail, max_length=2000) if e.detail else None,
                source=e.source,
            )
            for e in evidence[:40]
        ),
        provider="explain",
        model=None,
    )
