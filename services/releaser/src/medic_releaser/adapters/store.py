"""The releaser's own tables: release runs (compare-and-set), leases, and a deploy ledger.

Two kinds of lease: a target's lease names the *instance* that drives its runs; a stage slot names
the *run* that may change a target's stage (one release at a time per target and stage). Both
expire when their holder stops renewing them (a crash), so a dead holder never blocks for good.

They live in the service store next to the runtime's outbox and work queue, so a run's state
change and the events it causes commit in one transaction.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic_contracts import IssueBrief
from medic_runtime import Leases, ServiceStore, lease_table

from ..domain.errors import RunConflict
from ..domain.runs import ReleaseRun, RunStatus

__all__ = ["RunStore", "release_metadata"]

release_metadata = MetaData()

release_runs = Table(
    "release_runs",
    release_metadata,
    Column("run_id", String(200), primary_key=True),
    Column("issue_id", String(200), nullable=False),
    Column("target", String(100), nullable=False),
    Column("status", String(40), nullable=False),
    Column("approval_id", String(200), nullable=True),
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_release_runs_issue", "issue_id"),
    Index("ix_release_runs_approval", "approval_id"),
)

target_leases = lease_table("release_leases", release_metadata, key="target", key_length=100)

#: One row per target and stage: the run allowed to gate, merge, deploy, watch and roll back there.
stage_slots = Table(
    "release_stage_slots",
    release_metadata,
    Column("target", String(100), primary_key=True),
    Column("stage", String(20), primary_key=True),
    Column("run_id", String(200), nullable=True),
    Column("instance", String(200), nullable=True),
    Column("until", Float, nullable=False),
)

ledger = Table(
    "release_ledger",
    release_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(200), nullable=False),
    Column("issue_id", String(200), nullable=False),
    Column("target", String(100), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("kind", String(20), nullable=False),  # deploy | rollback
    Column("at", Float, nullable=False),
    UniqueConstraint("run_id", "stage", "kind", name="uq_release_ledger_step"),
)

# No release_diagnoses table any more: the root cause travels on FixCommitted (1.2). Stores made before
# keep theirs untouched and unused (create_all never drops a table), so an upgrade needs no migration.

#: The watcher's latest view of each issue (severity, users), kept before any fix for it arrives.
issue_views = Table(
    "release_issue_views",
    release_metadata,
    Column("issue_id", String(200), primary_key=True),
    Column("brief", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


class RunStore:
    """Release runs, leases, counters: keyword-only methods over the service store."""

    def __init__(self, store: ServiceStore) -> None:
        self.store = store
        self.leases = Leases(store, target_leases, key="target")

    # ---- runs ----------------------------------------------------------------------------------

    async def create(self, conn: AsyncConnection, *, run: ReleaseRun) -> bool:
        """Insert a new run; False when a run with that id exists (a redelivered fix)."""
        row = self._row(run)
        result = await conn.execute(self.store.insert_ignore(release_runs, ["run_id"]).values(**row))
        return bool(result.rowcount)

    async def get(self, *, run_id: str, conn: AsyncConnection | None = None) -> ReleaseRun | None:
        """The run, or None."""
        stmt = select(release_runs.c.data, release_runs.c.version).where(release_runs.c.run_id == run_id)
        row = await self._first(stmt, conn)
        return self._load(row) if row else None

    async def save(self, conn: AsyncConnection, *, run: ReleaseRun) -> ReleaseRun:
        """Compare-and-set: write ``run`` if nobody changed it since it was read; raise RunConflict otherwise."""
        now = time.time()
        new = run.model_copy(update={"version": run.version + 1, "updated_at": now})
        row = self._row(new)
        result = await conn.execute(
            update(release_runs)
            .where(release_runs.c.run_id == run.run_id, release_runs.c.version == run.version)
            .values(status=row["status"], approval_id=row["approval_id"], version=new.version, data=row["data"], updated_at=now)
        )
        if result.rowcount != 1:
            raise RunConflict(f"run {run.run_id} changed since version {run.version}")
        return new

    async def latest_for_issue(self, *, issue_id: str, conn: AsyncConnection | None = None) -> ReleaseRun | None:
        """The most recent run of an issue (inside a transaction, pass its ``conn``: never open a second one)."""
        stmt = (
            select(release_runs.c.data, release_runs.c.version)
            .where(release_runs.c.issue_id == issue_id)
            .order_by(release_runs.c.created_at.desc())
            .limit(1)
        )
        row = await self._first(stmt, conn)
        return self._load(row) if row else None

    async def by_approval(self, *, approval_id: str) -> ReleaseRun | None:
        """The run an approval request belongs to."""
        stmt = select(release_runs.c.data, release_runs.c.version).where(release_runs.c.approval_id == approval_id)
        row = await self._first(stmt, None)
        return self._load(row) if row else None

    async def all(self, *, limit: int = 200) -> list[ReleaseRun]:
        """The newest runs, finished or not."""
        stmt = select(release_runs.c.data, release_runs.c.version).order_by(release_runs.c.created_at.desc()).limit(limit)
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [self._load(r) for r in rows]

    async def active(self, *, target: str | None = None) -> list[ReleaseRun]:
        """Runs not finished yet."""
        finished = [s.value for s in RunStatus if s.finished]
        stmt = select(release_runs.c.data, release_runs.c.version).where(release_runs.c.status.not_in(finished))
        if target is not None:
            stmt = stmt.where(release_runs.c.target == target)
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(release_runs.c.created_at))).all()
        return [self._load(r) for r in rows]

    # ---- leases --------------------------------------------------------------------------------

    async def acquire_lease(self, *, target: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the target's lease; False while another live instance holds it."""
        return await self.leases.acquire(key=target, holder=holder, ttl_s=ttl_s)

    async def release_lease(self, *, target: str, holder: str) -> None:
        """Give the lease up (at shutdown, or when the target has no active run)."""
        await self.leases.release(key=target, holder=holder)

    async def lease_holder(self, *, target: str) -> str | None:
        """Who holds the target's lease now (None when free or lapsed)."""
        return await self.leases.holder(key=target)

    # ---- stage slots ---------------------------------------------------------------------------

    async def acquire_slot(self, *, target: str, stage: str, run_id: str, instance: str, ttl_s: float) -> bool:
        """Take or renew the stage slot for ``run_id``; False while another run holds it and its lease lives."""
        now = time.time()
        async with self.store.transaction() as conn:
            await conn.execute(
                self.store.insert_ignore(stage_slots, ["target", "stage"]).values(
                    target=target, stage=stage, run_id=None, instance=None, until=0.0
                )
            )
            result = await conn.execute(
                update(stage_slots)
                .where(
                    stage_slots.c.target == target,
                    stage_slots.c.stage == stage,
                    (stage_slots.c.run_id == run_id) | (stage_slots.c.until < now) | (stage_slots.c.run_id.is_(None)),
                )
                .values(run_id=run_id, instance=instance, until=now + ttl_s)
            )
            return result.rowcount == 1

    async def release_slot(self, *, target: str, stage: str, run_id: str) -> None:
        """Give the stage slot up (the run finished, or waits for a human and lets others go)."""
        async with self.store.transaction() as conn:
            await conn.execute(
                update(stage_slots)
                .where(stage_slots.c.target == target, stage_slots.c.stage == stage, stage_slots.c.run_id == run_id)
                .values(run_id=None, instance=None, until=0.0)
            )

    async def slot_holder(self, *, target: str, stage: str) -> str | None:
        """The run holding the stage slot now (None when free or lapsed)."""
        stmt = select(stage_slots.c.run_id, stage_slots.c.until).where(
            stage_slots.c.target == target, stage_slots.c.stage == stage
        )
        row = await self._first(stmt, None)
        if row is None or row.run_id is None or row.until < time.time():
            return None
        holder: str = row.run_id
        return holder

    async def renew_slots(self, *, instance: str, run_ids: list[str], ttl_s: float) -> None:
        """Extend the live slots this instance holds for ``run_ids`` (runs still active)."""
        if not run_ids:
            return
        now = time.time()
        async with self.store.transaction() as conn:
            await conn.execute(
                update(stage_slots)
                .where(stage_slots.c.instance == instance, stage_slots.c.run_id.in_(run_ids), stage_slots.c.until >= now)
                .values(until=now + ttl_s)
            )

    # ---- counters ------------------------------------------------------------------------------

    async def add_ledger(self, conn: AsyncConnection, *, run: ReleaseRun, stage: str, kind: str) -> None:
        """Count a production deploy or a rollback once per run and stage."""
        await conn.execute(
            self.store.insert_ignore(ledger, ["run_id", "stage", "kind"]).values(
                run_id=run.run_id, issue_id=run.issue_id, target=run.target, stage=stage, kind=kind, at=time.time()
            )
        )

    async def deploys_since(self, *, target: str, since: float) -> int:
        """Production deployments started for ``target`` since ``since`` (epoch seconds)."""
        stmt = select(func.count()).where(
            ledger.c.target == target, ledger.c.stage == "production", ledger.c.kind == "deploy", ledger.c.at >= since
        )
        return int((await self._first(stmt, None))[0])

    async def rollbacks_for(self, *, issue_id: str) -> int:
        """Rollbacks counted against an issue."""
        stmt = select(func.count()).where(ledger.c.issue_id == issue_id, ledger.c.kind == "rollback")
        return int((await self._first(stmt, None))[0])

    # ---- the watcher's view of issues ------------------------------------------------------------

    async def remember_issue(self, conn: AsyncConnection, *, issue_id: str, brief: IssueBrief) -> None:
        """Keep the watcher's latest facts about an issue (a fix made from older ones gates on these)."""
        row = {"issue_id": issue_id, "brief": brief.model_dump_json(), "updated_at": time.time()}
        await conn.execute(self.store.upsert(issue_views, ["issue_id"], row, ["brief", "updated_at"]))

    async def issue_view(self, *, issue_id: str, conn: AsyncConnection | None = None) -> IssueBrief | None:
        """The latest facts the watcher published about ``issue_id``, if any."""
        row = await self._first(select(issue_views.c.brief).where(issue_views.c.issue_id == issue_id), conn)
        return IssueBrief.model_validate_json(row[0]) if row else None

    # ---- helpers -------------------------------------------------------------------------------

    async def _first(self, stmt: Any, conn: AsyncConnection | None) -> Any:
        if conn is not None:
            return (await conn.execute(stmt)).first()
        async with self.store.engine.connect() as c:
            return (await c.execute(stmt)).first()

    @staticmethod
    def _row(run: ReleaseRun) -> dict[str, Any]:
        state = run.state()
        return {
            "run_id": run.run_id,
            "issue_id": run.issue_id,
            "target": run.target,
            "status": run.status.value,
            "approval_id": state.approval_id if run.status is RunStatus.AWAITING_APPROVAL else None,
            "version": run.version,
            "data": json.dumps(run.to_json()),
            "created_at": run.created_at,
            "updated_at": run.updated_at,
        }

    @staticmethod
    def _load(row: Any) -> ReleaseRun:
        run = ReleaseRun.model_validate(json.loads(row.data))
        return run.model_copy(update={"version": int(row.version)})
