"""The demo's own checks once the release finished: the stages run what they should, the bug is gone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from medic_contracts import DeploymentStage

from .follow import LoopFollower
from .scenario import DemoResult
from .screen import Screen
from .setup import git, is_ancestor
from .traffic import Traffic

__all__ = ["verify_promotion", "verify_rollback"]


async def verify_rollback(result: DemoResult, *, deployer: Any, released: str, forge: Path, screen: Screen) -> bool:
    """After the rollback: both stages run the release from before the fix, and the staging merge is undone."""
    for _ in range(60):  # the redeploy may finish just after the result is announced
        staging = await deployer.current(stage=DeploymentStage.STAGING)
        if staging is not None and staging.sha == released:
            break
        await asyncio.sleep(0.5)
    production = await deployer.current(stage=DeploymentStage.PRODUCTION)
    staging_sha = staging.sha if staging else None
    production_sha = production.sha if production else None
    merge_undone = git(forge, "rev-parse", "staging^{tree}") == git(forge, "rev-parse", f"{released}^{{tree}}")
    fix_in_main = result.commit is not None and is_ancestor(forge, result.commit, "main")
    ok = staging_sha == released and production_sha == released and merge_undone and not fix_in_main
    screen.line(
        "ok" if ok else "fail",
        "verified",
        f"staging runs {str(staging_sha)[:10]} again, production {str(production_sha)[:10]} (the release before the fix); "
        f"staging merge {'reverted' if merge_undone else 'NOT reverted'}; main {'has' if fix_in_main else 'never got'} the fix",
        "releaser",
    )
    return ok


async def verify_promotion(result: DemoResult, *, traffic: Traffic, screen: Screen, follower: LoopFollower) -> bool:
    """After promotion (fix, approval): the bug's request no longer fails in production, and nothing regressed."""
    promoted_at = time.monotonic()
    async with httpx.AsyncClient(timeout=5.0) as client:
        before = traffic.errors["production"]
        await traffic.burst(client, stage="production", normal=30, triggers=10)
        errors = traffic.errors["production"] - before
    statuses = [code for t, stage, code in traffic.trigger_statuses if stage == "production" and t >= promoted_at]
    await asyncio.sleep(3.0)  # room for a regression to be reported, if the watcher saw one
    regressed = any(o.endswith("reopened") for o in result.outcomes)
    result.errors_after_fix = errors
    ok = errors == 0 and bool(statuses) and all(code < 500 for code in statuses) and not regressed
    follower.mark("verified")
    screen.line(
        "ok" if ok else "fail",
        "verified",
        f"{len(statuses)} requests to the broken route now answer {sorted(set(statuses))}; {errors} errors; "
        f"{'no regression' if not regressed else 'REGRESSED'}",
        "watcher",
    )
    return ok
