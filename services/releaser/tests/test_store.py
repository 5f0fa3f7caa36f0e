"""The releaser's store: compare-and-set runs, leases, counters for the caps."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from medic_contracts import (
    DeploymentStage,
    FixCommitted,
    FixStrategy,
    IssueBrief,
    IssueType,
    Producer,
    Severity,
)
from medic_contracts import TestOutcome as Outcome
from medic_contracts import TestReport as Report
from medic_releaser.adapters.store import RunStore, release_metadata
from medic_releaser.domain.errors import RunConflict
from medic_releaser.domain.runs import ReleaseRun, run_id_for
from medic_runtime import ServiceStore


def fix(issue_id: str = "iss_1", attempt: int = 1) -> FixCommitted:
    return FixCommitted(
        producer=Producer(service="implementer", instance="i"), issue_id=issue_id,
        issue=IssueBrief(target="shop", service="web", title="t", severity=Severity.P2, issue_type=IssueType.API_ERROR,
                         fingerprint="f"),
        repository="r", branch=f"agent/fix-{issue_id}", base_sha="b" * 40, commit_sha="c" * 40, files_changed=("a.py",),
        diff_hash="sha256:x", strategy=FixStrategy.NULL_GUARD, tests=Report(command="true", outcome=Outcome.PASSED),
        attempt=attempt,
    )  # fmt: skip


@pytest.fixture
async def runs(tmp_path: Path) -> RunStore:
    store = ServiceStore(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", service="releaser")
    await store.create_all(release_metadata)
    return RunStore(store)


def new_run(event: FixCommitted) -> ReleaseRun:
    now = time.time()
    return ReleaseRun(run_id=run_id_for(event), issue_id=event.issue_id, target="shop", fix=event, created_at=now, updated_at=now)


async def test_runs_change_by_compare_and_set_and_a_stale_writer_loses(runs: RunStore) -> None:
    run = new_run(fix())
    async with runs.store.transaction() as conn:
        assert await runs.create(conn, run=run)
        assert not await runs.create(conn, run=run)  # a redelivered fix never makes a second run
    loaded = await runs.get(run_id=run.run_id)
    assert loaded is not None and loaded.version == 0
    async with runs.store.transaction() as conn:
        saved = await runs.save(conn, run=loaded.model_copy(update={"reason": "first"}))
    assert saved.version == 1
    with pytest.raises(RunConflict):
        async with runs.store.transaction() as conn:
            await runs.save(conn, run=loaded.model_copy(update={"reason": "stale"}))
    current = await runs.get(run_id=run.run_id)
    assert current is not None and current.reason == "first"


async def test_one_instance_holds_a_target_lease_until_it_lapses_or_is_released(runs: RunStore) -> None:
    assert await runs.acquire_lease(target="shop", holder="a", ttl_s=0.3)
    assert not await runs.acquire_lease(target="shop", holder="b", ttl_s=0.3)
    assert await runs.acquire_lease(target="shop", holder="a", ttl_s=0.3)  # renewal
    assert await runs.lease_holder(target="shop") == "a"
    time.sleep(0.4)
    assert await runs.lease_holder(target="shop") is None
    assert await runs.acquire_lease(target="shop", holder="b", ttl_s=5)
    await runs.release_lease(target="shop", holder="a")  # not a's to release
    assert await runs.lease_holder(target="shop") == "b"
    await runs.release_lease(target="shop", holder="b")
    assert await runs.acquire_lease(target="shop", holder="a", ttl_s=5)


async def test_one_run_at_a_time_holds_a_stage_slot_and_a_crashed_holders_slot_lapses(runs: RunStore) -> None:
    slot = {"target": "shop", "stage": "staging"}
    assert await runs.acquire_slot(**slot, run_id="rel_a", instance="releaser-1", ttl_s=0.3)
    assert not await runs.acquire_slot(**slot, run_id="rel_b", instance="releaser-1", ttl_s=0.3)  # same instance too
    assert await runs.acquire_slot(target="shop", stage="production", run_id="rel_b", instance="releaser-1", ttl_s=5)
    assert await runs.acquire_slot(target="other", stage="staging", run_id="rel_c", instance="releaser-1", ttl_s=5)
    assert await runs.acquire_slot(**slot, run_id="rel_a", instance="releaser-2", ttl_s=0.3)  # renewal, any instance
    assert await runs.slot_holder(**slot) == "rel_a"
    await runs.renew_slots(instance="releaser-1", run_ids=["rel_a"], ttl_s=5)  # not releaser-1's any more
    time.sleep(0.4)  # rel_a's instance crashed: nobody renews
    assert await runs.slot_holder(**slot) is None
    assert await runs.acquire_slot(**slot, run_id="rel_b", instance="releaser-1", ttl_s=0.3)
    assert not await runs.acquire_slot(**slot, run_id="rel_a", instance="releaser-2", ttl_s=5)  # it lost the slot
    await runs.renew_slots(instance="releaser-1", run_ids=["rel_b"], ttl_s=5)  # kept while rel_b waits between steps
    time.sleep(0.4)
    assert await runs.slot_holder(**slot) == "rel_b"
    await runs.release_slot(**slot, run_id="rel_a")  # not rel_a's to release
    assert await runs.slot_holder(**slot) == "rel_b"
    await runs.release_slot(**slot, run_id="rel_b")
    assert await runs.acquire_slot(**slot, run_id="rel_a", instance="releaser-2", ttl_s=5)


async def test_deploys_and_rollbacks_are_counted_once_per_run_and_stage(runs: RunStore) -> None:
    since = time.time() - 1
    for attempt in (1, 2, 3):
        run = new_run(fix(attempt=attempt)).model_copy(update={"stage": DeploymentStage.PRODUCTION})
        async with runs.store.transaction() as conn:
            await runs.create(conn, run=run)
            await runs.add_ledger(conn, run=run, stage="production", kind="deploy")
            await runs.add_ledger(conn, run=run, stage="production", kind="deploy")  # a retried step
            await runs.add_ledger(conn, run=run, stage="staging", kind="rollback")
    assert await runs.deploys_since(target="shop", since=since) == 3
    assert await runs.deploys_since(target="shop", since=time.time() + 1) == 0
    assert await runs.rollbacks_for(issue_id="iss_1") == 3
    assert await runs.rollbacks_for(issue_id="iss_2") == 0


async def test_operators_list_runs_newest_first_and_can_filter_to_unfinished(runs: RunStore) -> None:
    from medic_releaser.domain.runs import RunStatus
    from medic_releaser.status import list_runs

    older, newer = new_run(fix("iss_a")), new_run(fix("iss_b"))
    newer = newer.model_copy(update={"created_at": older.created_at + 1, "status": RunStatus.PROMOTED})
    async with runs.store.transaction() as conn:
        await runs.create(conn, run=older)
        await runs.create(conn, run=newer)
    listed = await list_runs(store_url=runs.store.url)
    assert [r["issue_id"] for r in listed] == ["iss_b", "iss_a"]
    assert [r["issue_id"] for r in await list_runs(store_url=runs.store.url, active_only=True)] == ["iss_a"]
