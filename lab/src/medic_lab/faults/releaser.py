"""Fault cases around real releaser processes releasing a real app (a bare repository, two stages on real ports).

The setup is the release fault test's: the releaser harness's target repository and app, what ran
before (``deploy_initial``), a FixCommitted, traffic on the stages. Measured from the deployment
results and actions topics, the remote's branches and the stores' outboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    AutonomyLevel,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    MedicConfig,
    Severity,
)
from medic_testing.releaser import harness as h
from medic_testing.releaser.faults import deploy_initial, stream_new_errors
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

from .flaky import flaky_proxy
from .model import FaultResult, audit_duplicates, duplicated_rows, extra, outbox_rows
from .stack import Bus, stop_all

__all__ = ["metrics_503_during_watch", "releaser_killed_mid_watch", "two_releaser_instances"]

STAGING, PRODUCTION = DeploymentStage.STAGING, DeploymentStage.PRODUCTION
FULL = MedicConfig(autonomy_level=AutonomyLevel.FULL)


def _results(events: list[Any], stage: DeploymentStage | None = None) -> list[DeploymentResult]:
    return [e for e in events if isinstance(e, DeploymentResult) and (stage is None or e.stage is stage)]


def _actions(events: list[Any], action: str, status: ActionStatus | None = None) -> list[ActionRecorded]:
    return [e for e in events if isinstance(e, ActionRecorded) and e.action == action and (status is None or e.status is status)]


def _releaser(name: str, env: dict[str, str], root: Path) -> ServiceProcess:
    return ServiceProcess.console_script(name, "medic-releaser", env={**env, "MEDIC_INSTANCE_ID": name}, log_dir=root)


@contextlib.asynccontextmanager
async def _stage(
    b: Bus, root: Path, release: dict[str, Any], *, edit: Callable[[h.Target], None] | None = None
) -> AsyncIterator[h.Target]:
    """A target repository with main on both stages (stopped afterwards), and full autonomy on the control topic."""
    target = h.write_target(h.make_repo(root / "target"), release=release)
    if edit is not None:
        edit(target)
    deployer = await deploy_initial(target)
    try:
        await h.publish(b.bootstrap, b.topics, h.control_state(FULL))
        yield target
    finally:
        await deployer.stop_all()


def _env(b: Bus, target: h.Target, data: Path, **extra_env: str) -> dict[str, str]:
    return test_env(b.bootstrap, b.prefix, data, MEDIC_TARGET_FILE=str(target.toml), MEDIC_LEASE_TTL_S="2",
                    MEDIC_LOG_FORMAT="text", **extra_env)  # fmt: skip


def _measure(result: FaultResult, events: list[Any], issues: set[str], *, stuck: int) -> None:
    """Deploys, notifications and audit rows per issue, against what each issue should have had once."""
    mine = [e for e in events if getattr(e, "issue_id", None) in issues]
    results = {r.event_id: r for r in _results(mine)}.values()
    per_stage = Counter((r.issue_id, r.stage) for r in results)
    result.lost_issues = len({i for i in issues if (i, STAGING) not in per_stage})
    result.duplicate("deploys", extra(per_stage.values()))
    notices = {e.event_id: e for e in _actions(mine, "releaser.notify", ActionStatus.SUCCEEDED)}.values()
    result.duplicate("notifications", extra(Counter((n.issue_id, n.summary) for n in notices).values()))
    result.duplicate("audit_rows", audit_duplicates(mine, exclude=("releaser.notify",)))
    if doubled := duplicated_rows(mine, exclude=("releaser.notify",)):
        result.observed["duplicated_audit_rows"] = doubled
    deployed = {(a.issue_id, a.details.get("stage")) for a in _actions(mine, "releaser.deploy")}
    audited = {i for i, _ in deployed}
    # A stage result nobody recorded a deploy action for, or events left in an outbox, is a side effect without a trail.
    unaudited = sum(1 for (issue, _stage), _n in per_stage.items() if issue not in audited)
    result.unaudited_side_effects = unaudited + stuck
    result.observed["results"] = sorted(f"{r.issue_id}:{r.stage.value}:{r.outcome.value}" for r in results)
    result.observed["notifications"] = len(notices)
    result.observed["audit_rows"] = len({a.event_id for a in mine if isinstance(a, ActionRecorded)})
    result.observed["outbox_left"] = stuck


async def _kill_mid_watch(b: Bus, root: Path, result: FaultResult) -> None:
    async with _stage(b, root, {"staging_watch_s": 12.0, "production_watch_s": 1.0}) as target:
        env = _env(b, target, root / "releaser-data")
        first, second = _releaser("releaser-a", env, root), _releaser("releaser-b", env, root)
        stream: asyncio.Task[None] | None = None
        fix = h.fix_event(target.repo, issue_id="iss_unwatched", behaviour={"version": 2}, severity=Severity.P1)
        try:
            first.start()
            async with h.EventLog(b.bootstrap, b.topics) as log, h.traffic(f"{target.staging.url}/work"):
                await h.publish(b.bootstrap, b.topics, fix)
                await log.wait_for(lambda ev: _actions(ev, "releaser.watch", ActionStatus.STARTED), timeout=120)
                await asyncio.sleep(4.5)
                await asyncio.to_thread(first.kill)
                result.checks["nothing decided before the kill"] = not _results(log.events, STAGING)
                stream = asyncio.create_task(stream_new_errors(target.staging.log))
                await asyncio.sleep(15.0)  # longer than what was left of the window
                back = time.monotonic()
                second.start()
                await asyncio.to_thread(second.wait_healthy, 90.0)
                done = await log.wait_for(lambda ev: _results(ev, STAGING), timeout=120)
                result.recovery_s = time.monotonic() - back
                await asyncio.sleep(3.0)
                decided = done[0]
                result.observed["staging"] = {"outcome": decided.outcome.value, "reason": decided.reason,
                                              "by": decided.producer.instance}  # fmt: skip
                result.checks["not promoted on pre-kill samples (rolled back)"] = decided.outcome is DeploymentOutcome.ROLLED_BACK
                result.checks["decided by the restarted instance"] = decided.producer.instance == "releaser-b"
                result.checks["the merge was reverted on staging"] = target.repo.behaviour_on("staging")["version"] == 1
                _measure(result, log.events, {fix.issue_id}, stuck=outbox_rows(root / "releaser-data"))
        finally:
            if stream is not None:
                stream.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stream
            await asyncio.to_thread(stop_all, first, second)


def releaser_killed_mid_watch(b: Bus, root: Path, result: FaultResult) -> None:
    asyncio.run(_kill_mid_watch(b, root, result))


async def _metrics_503(b: Bus, root: Path, result: FaultResult) -> None:
    with flaky_proxy() as proxy:

        def through_proxy(target: h.Target) -> None:
            # Only staging's metrics go through the proxy; its health, log and smoke checks stay direct.
            proxy.upstream = target.staging.url
            direct, proxied = f'metrics_url = "{target.staging.url}/metrics"', f'metrics_url = "{proxy.url}/metrics"'
            target.toml.write_text(target.toml.read_text().replace(direct, proxied))

        release = {"staging_watch_s": 6.0, "production_watch_s": 1.0}
        async with _stage(b, root, release, edit=through_proxy) as target:
            proc = _releaser("releaser", _env(b, target, root / "releaser-data"), root)
            fix = h.fix_event(target.repo, issue_id="iss_metrics_down", behaviour={"version": 2}, severity=Severity.P1)
            try:
                proc.start()
                async with h.EventLog(b.bootstrap, b.topics) as log, h.traffic(f"{target.staging.url}/work"):
                    await h.publish(b.bootstrap, b.topics, fix)
                    await log.wait_for(lambda ev: _actions(ev, "releaser.watch", ActionStatus.STARTED), timeout=120)
                    await asyncio.sleep(1.0)
                    proxy.failing.set()
                    down = time.monotonic()
                    done = await log.wait_for(lambda ev: _results(ev, STAGING), timeout=120)
                    result.recovery_s = time.monotonic() - down
                    await asyncio.sleep(3.0)
                    decided = done[0]
                    result.observed["staging"] = {"outcome": decided.outcome.value, "reason": decided.reason}
                    result.observed["metrics_503_answers"] = proxy.refused
                    result.checks["the 503s were seen by the releaser"] = proxy.refused > 0
                    result.checks["not promoted while metrics were missing"] = decided.outcome is not DeploymentOutcome.PROMOTED
                    promoted = [r for r in _results(log.events, PRODUCTION) if r.outcome is DeploymentOutcome.PROMOTED]
                    result.checks["nothing promoted to production"] = not promoted
                    _measure(result, log.events, {fix.issue_id}, stuck=outbox_rows(root / "releaser-data"))
            finally:
                await asyncio.to_thread(stop_all, proc)


def metrics_503_during_watch(b: Bus, root: Path, result: FaultResult) -> None:
    asyncio.run(_metrics_503(b, root, result))


async def _postgres_store() -> tuple[str, Callable[[], Any]]:
    """A fresh database on the local PostgreSQL for a store two processes share, and its dropper."""
    import asyncpg

    name = f"medic_faults_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", drop


async def _outbox_in(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval("select count(*) from medic_releaser.outbox"))  # the service's own schema
    finally:
        await conn.close()


async def _two_instances(b: Bus, root: Path, result: FaultResult) -> None:
    store, drop = await _postgres_store()
    try:
        async with _stage(b, root, {"staging_watch_s": 2.0, "production_watch_s": 1.0}) as target:
            env = _env(b, target, root / "releaser-data", MEDIC_STORE_URL=store)
            names = ("releaser-a", "releaser-b")
            procs = [_releaser(name, {**env, "MEDIC_DATA_DIR": str(root / name)}, root) for name in names]
            one = h.fix_event(
                target.repo, issue_id="iss_one", behaviour={"version": 2}, severity=Severity.P1, fingerprint="fp-one"
            )
            two = h.fix_event(target.repo, issue_id="iss_two", behaviour=None, files={"notes.txt": "two\n"},
                              severity=Severity.P1, fingerprint="fp-two")  # fmt: skip
            issues = {one.issue_id, two.issue_id}
            try:
                for proc in procs:
                    proc.start()
                for proc in procs:
                    await asyncio.to_thread(proc.wait_healthy, 90.0)
                async with (
                    h.EventLog(b.bootstrap, b.topics) as log,
                    h.traffic(f"{target.staging.url}/work", f"{target.production.url}/work"),
                ):
                    sent = time.monotonic()
                    await h.publish(b.bootstrap, b.topics, one, two)

                    def both_done(ev: list[Any]) -> bool:
                        return {r.issue_id for r in _results(ev, PRODUCTION)} >= issues

                    await log.wait_for(both_done, timeout=240)
                    result.recovery_s = time.monotonic() - sent
                    await asyncio.sleep(3.0)
                    events = list(log.events)
                _serialized(result, events)
                _measure(result, events, issues, stuck=await _outbox_in(store))
            finally:
                await asyncio.to_thread(stop_all, *procs)
    finally:
        await drop()


def _serialized(result: FaultResult, events: list[Any]) -> None:
    """The second release's gate, merge and deploys all come after the first release's last decision."""
    merges = sorted(
        (a.occurred_at, a.issue_id) for a in _actions(events, "releaser.merge") if a.status is not ActionStatus.REFUSED
    )
    order = list(dict.fromkeys(i for _, i in merges))
    result.observed["release_order"] = order
    result.observed["acting_instances"] = sorted(
        {e.producer.instance for e in events if isinstance(e, ActionRecorded) and e.action != "releaser.accepted"}
    )
    if len(order) < 2:
        result.checks["both fixes merged"] = False
        return
    first, second = order[0], order[1]
    first_done = max(r.occurred_at for r in _results(events) if r.issue_id == first)
    steps = ("releaser.gate", "releaser.merge", "releaser.deploy")
    taken = [a.occurred_at for a in events if isinstance(a, ActionRecorded) and a.issue_id == second
             and a.action in steps and a.status is not ActionStatus.REFUSED]  # fmt: skip
    overlap = [t for t in taken if t < first_done]
    result.observed["overlapping_actions"] = len(overlap)
    result.checks["one release at a time"] = bool(taken) and not overlap


def two_releaser_instances(b: Bus, root: Path, result: FaultResult) -> None:
    asyncio.run(_two_instances(b, root, result))
