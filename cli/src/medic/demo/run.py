"""``medic demo`` from start to end: set up, start Medic, ship the bad change, follow, verify, report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from medic_contracts import DeploymentStage, TopicRegistry

from ..devstack import DevStack, StackConfig
from .follow import LoopFollower
from .operator import approve_through_cli, configure, operator_token
from .scenario import BAD_CHANGE, DemoOptions, DemoResult, is_complete
from .screen import Screen, print_summary
from .setup import build_shop_deployer, deploy, git, load_example, repo_root, stop_deployments, tune_target
from .traffic import Traffic
from .verify import verify_promotion, verify_rollback

__all__ = ["run", "run_demo"]


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run one scenario end to end; the result says whether the loop completed."""
    root = repo_root()
    setup = load_example(root / "examples" / "shop" / "setup_repo.py", "medic_demo_shop_setup")
    traffic_mod = load_example(root / "examples" / "shop" / "traffic.py", "medic_demo_shop_traffic")
    work = options.work_dir.resolve() / options.scenario
    if work.exists():
        await asyncio.to_thread(shutil.rmtree, work)
    work.mkdir(parents=True)
    screen = Screen(color=options.color)
    result = DemoResult(scenario=options.scenario)
    node_bin = root / "tools" / "node" / "node_modules" / ".bin"
    path_env = os.pathsep.join([str(node_bin), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    os.environ["PATH"] = path_env  # the demo's own deployments need the workspace's python; test runs need tsx

    def log_line(service: str, line: str) -> None:
        if service_logs is not None:
            service_logs.write(f"{service:<13}| {line}")
            service_logs.flush()

    # Medic's ports are chosen first: the shop's Sentry SDKs report to the watcher's ingest with a key only it knows.
    medic_toml = work / "shop" / "medic.toml"
    sentry_key = secrets.token_hex(16)
    prefix = f"demo{secrets.token_hex(3)}."
    env = {
        "MEDIC_TARGETS": str(medic_toml),
        "MEDIC_TARGET_FILE": str(medic_toml),
        "PATH": path_env,
        "MEDIC_SNAPSHOT_INTERVAL_S": "10",
        "MEDIC_KAFKA_FETCH_MAX_WAIT_MS": "20",
        "MEDIC_DASHBOARD_URL": "",
        "MEDIC_LLM_PROVIDER": "auto" if os.environ.get("ANTHROPIC_API_KEY") else "playbook",
        setup.SENTRY_KEYS_ENV: sentry_key,
    }
    stack = DevStack(
        StackConfig(data_dir=work / "medic", prefix=prefix, env=env, well_known_ports=options.well_known_ports),
        on_line=log_line,
    )
    ingest = setup.SentryIngest(url=f"http://127.0.0.1:{stack.plan_ports()['watcher']}", key=sentry_key)

    screen.line("step", "setup", f"example shop → {work}/shop (git repo + local forge), scenario “{options.scenario}”")
    shop = await asyncio.to_thread(
        setup.materialise_shop,
        work / "shop",
        bad_changes=[],
        # builds are kept by content beside the scenarios: the next run (or scenario) reuses them
        build_cache=options.work_dir.resolve() / "builds",
        sentry=ingest,
    )
    tune_target(shop.medic_toml, scenario=options.scenario, fast=options.fast)

    # The demo deploys the healthy app itself, as the team did before Medic; same state dir as the releaser.
    deployer = build_shop_deployer(shop.medic_toml, scenario=options.scenario, work=work, clone=shop.clone)
    stages = {
        "staging": (f"http://127.0.0.1:{shop.ports.web_staging}", f"http://127.0.0.1:{shop.ports.api_staging}"),
        "production": (f"http://127.0.0.1:{shop.ports.web_production}", f"http://127.0.0.1:{shop.ports.api_production}"),
    }
    traffic = Traffic(traffic_mod, stages=stages)
    tasks: list[asyncio.Task[Any]] = []
    service_logs = (work / "logs").open("a") if options.quiet_services else None
    try:
        healthy = git(shop.clone, "rev-parse", "HEAD")
        screen.line("step", "deploy", "healthy shop: npm ci from the lockfile, next build, next start (staging, production)")
        for stage in (DeploymentStage.STAGING, DeploymentStage.PRODUCTION):
            await deploy(stage, deployer, healthy)
        screen.line(
            "ok", "deployed", f"healthy shop {healthy[:10]}: staging {stages['staging'][0]}, production {stages['production'][0]}"
        )

        screen.line("step", "medic", "starting the embedded broker, control-api (SQLite) and the four agents")
        await stack.start()
        api_url = stack.urls()["control-api"]
        result.dashboard_url = f"{api_url}/dashboard/agent-control"
        result.admin_token = stack.tokens["admin"]
        ports = ", ".join(f"{name} :{port}" for name, port in stack.ports.items())
        screen.line("ok", "medic", f"running: {ports}")
        note = await configure(api_url, stack.tokens["admin"], options.scenario)
        screen.line("ok", "policy", note, "control-api")
        operator = await operator_token(api_url, stack.tokens["admin"])

        # Ship the bad change: committed, pushed to the forge, deployed to staging and production.
        patch = root / "examples" / "shop" / "bad-changes" / f"{BAD_CHANGE}.patch"
        git(shop.clone, "am", "-q", "--ignore-date", str(patch))
        bad = git(shop.clone, "rev-parse", "HEAD")
        git(shop.clone, "push", "-q", "origin", "HEAD:main", "HEAD:staging")
        for stage in (DeploymentStage.STAGING, DeploymentStage.PRODUCTION):
            await deploy(stage, deployer, bad)
        shipped_at = time.monotonic()
        screen.line(
            "fail",
            "shipped",
            f"bad change {BAD_CHANGE} ({bad[:10]}: “{git(shop.clone, 'log', '-1', '--format=%s')}”) to staging and production",
        )

        follower = LoopFollower(
            bootstrap=stack.bootstrap, topics=TopicRegistry(prefix), screen=screen, result=result, shipped_at=shipped_at
        )
        tasks.append(asyncio.create_task(follower.run(), name="demo-follow"))
        if options.scenario == "approval":
            tasks.append(
                asyncio.create_task(
                    approve_through_cli(follower, api_url=api_url, operator=operator, screen=screen, result=result),
                    name="demo-approve",
                )
            )
        async with httpx.AsyncClient(timeout=5.0) as client:  # the seed's example: 15 errors from 3 users in a minute
            await traffic.burst(client, stage="production", normal=60, triggers=15)
        if traffic.first_error_at is not None:
            result.stages["first_error"] = round(traffic.first_error_at - shipped_at, 1)
        screen.line(
            "step", "traffic", f"3 users, {traffic.sent} requests; {traffic.errors['production']} of them hit the bug (500)"
        )
        traffic.start()

        await _await_loop(result, options, stack)
        await _verify(
            result, options, deployer=deployer, released=bad, work=work, traffic=traffic, screen=screen, follower=follower
        )
        print_summary(result)
        (work / "summary.json").write_text(json.dumps(result.as_dict(), indent=2, default=str))
        if options.keep_running:
            screen.line("info", "running", f"dashboard {result.dashboard_url}  (token {result.admin_token}); Ctrl-C stops")
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        return result
    finally:
        await traffic.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await stack.stop()
        await stop_deployments(deployer)
        if service_logs is not None:
            service_logs.close()


async def _await_loop(result: DemoResult, options: DemoOptions, stack: DevStack) -> None:
    """Wait until the scenario's loop completes, or say in ``result.reason`` why it will not."""
    deadline = time.monotonic() + options.timeout_s
    while not is_complete(result, options.scenario):
        if time.monotonic() > deadline:
            reached = ", ".join(result.stages) or "nothing"
            result.reason = f"timed out after {options.timeout_s:.0f}s waiting for the loop (reached: {reached})"
            return
        if exited := stack.exited():
            result.reason = f"a service exited: {exited}"
            return
        terminal = {"staging_failed", "production_failed", "production_rolled_back", "staging_blocked"}
        if options.scenario != "rollback" and terminal & set(result.outcomes) - {"staging_blocked"}:
            result.reason = f"the release ended badly: {', '.join(result.outcomes)}"
            return
        await asyncio.sleep(0.5)


async def _verify(
    result: DemoResult,
    options: DemoOptions,
    *,
    deployer: Any,
    released: str,
    work: Path,
    traffic: Traffic,
    screen: Screen,
    follower: LoopFollower,
) -> None:
    """Once the loop completed, check its effect on the stages and record whether the demo completed."""
    if is_complete(result, options.scenario) and options.scenario == "rollback":
        result.completed = await verify_rollback(
            result, deployer=deployer, released=released, forge=work / "shop" / "forge.git", screen=screen
        )
        follower.mark("verified")
        if not result.completed:
            result.reason = "verification failed: the stages do not run the release from before the fix"
    elif is_complete(result, options.scenario):
        result.completed = await verify_promotion(result, traffic=traffic, screen=screen, follower=follower)
        if not result.completed and not result.reason:
            result.reason = "verification failed"


def run(options: DemoOptions, *, on_result: Callable[[DemoResult], None] | None = None) -> int:
    """Run the demo in a fresh event loop; 0 only when the loop completed.

    SIGTERM (``kill``, a CI timeout) stops it like Ctrl-C does: the services, the broker and the
    shop's deployments are stopped, not left running.
    """

    async def main() -> DemoResult:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await run_demo(options)

    try:
        result = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\n  Medic demo: stopped; services and deployments were shut down", flush=True)
        return 130
    if on_result:
        on_result(result)
    return 0 if result.completed else 1
