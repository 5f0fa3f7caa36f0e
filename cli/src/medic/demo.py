"""``medic demo``: the whole loop on the bundled example shop, on this machine, offline.

1. The example shop (examples/shop: a TypeScript web service and a Python API) becomes a real git
   repository with a local bare "forge"; staging and production are deployed from it on local ports.
2. The embedded broker, control-api (SQLite) and the four agents start as separate processes.
3. A bad change (the seed's missing null check on a database lookup) is shipped to production, and
   synthetic users send traffic to both stages; some of their requests hit the bug.
4. Then it watches, live, what Medic does: detect → diagnose → fix with a regression test on
   ``agent/fix-<id>`` → deploy to staging → watch → promote to production → watch → verify that the
   error no longer happens → notify. It ends with a summary and exits 0 only if the loop completed.

Scenarios: ``fix`` (autonomous, level 3 by an audited admin override), ``approval`` (level 1: the
fix and each deploy wait for a human; the demo approves through the CLI, as an operator would),
``rollback`` (the fix's staging deployment makes latency worse, so the releaser rolls it back).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import httpx
from aiokafka import AIOKafkaConsumer

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    AutonomyLevel,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueDetected,
    MedicConfig,
    TopicName,
    TopicRegistry,
    event_adapter,
)
from medic_forge.git import hardened_argv, hardened_env

from .devstack import DevStack, StackConfig

__all__ = ["DemoOptions", "DemoResult", "run_demo"]

Scenario = Literal["fix", "rollback", "approval"]
BAD_CHANGE = "001-practice-null-check"


@dataclass(slots=True)
class DemoOptions:
    """How to run the demo."""

    scenario: Scenario = "fix"
    work_dir: Path = Path(".demo")
    keep_running: bool = False
    fast: bool = False  # shorter watch windows (the e2e tests)
    timeout_s: float = 480.0
    quiet_services: bool = True  # service logs go to files, the screen shows the loop
    well_known_ports: bool = True  # control-api on :8080 when free; False: any free ports (demos side by side, tests)
    color: bool = field(default_factory=sys.stdout.isatty)


@dataclass(slots=True)
class DemoResult:
    """What happened, for the summary, the JSON file and the tests."""

    scenario: Scenario
    completed: bool = False
    reason: str = ""
    issue_id: str | None = None
    stages: dict[str, float] = field(default_factory=dict)  # stage → seconds since the bad change shipped
    severity: str | None = None
    title: str | None = None
    root_cause: str | None = None
    strategy: str | None = None
    branch: str | None = None
    commit: str | None = None
    regression_test: str | None = None
    diff: str = ""
    tests: str = ""
    approvals: list[str] = field(default_factory=list)
    dashboard_url: str = ""
    admin_token: str = ""
    outcomes: list[str] = field(default_factory=list)
    errors_after_fix: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, without the admin token (it is printed once, never written to disk here)."""
        return {k: getattr(self, k) for k in self.__slots__ if k != "admin_token"}


# ---- the example app ---------------------------------------------------------------------------


def repo_root() -> Path:
    """The Medic checkout the demo runs from (it bundles examples/ and tools/)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "examples" / "shop" / "setup_repo.py").is_file():
            return parent
    raise RuntimeError("medic demo runs from a Medic checkout (examples/shop not found)")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _tune_target(path: Path, *, scenario: Scenario, fast: bool) -> None:
    """Shorter windows for the demo (and shorter still for tests); the rollback scenario's staging fault."""
    text = path.read_text()
    windows = (
        {"staging_watch_s": 12, "production_watch_s": 15, "sample_interval_s": 2, "baseline_s": 6, "threshold": 2}
        if fast
        else {"staging_watch_s": 24, "production_watch_s": 30, "sample_interval_s": 3, "baseline_s": 9, "threshold": 2}
    )
    for key, value in windows.items():
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
    # a blocked or waiting run asks again within seconds, not minutes
    text = text.replace("[release]\n", "[release]\nblocked_retry_s = 3\napproval_poll_s = 1\n", 1)
    if scenario == "rollback":
        # The fix's staging deployment runs with a slow database: latency far above the baseline.
        text = text.replace("[deployer.staging]\n", '[deployer.staging]\nenv = { SHOP_DB_LATENCY_MS = "250" }\n', 1)
    path.write_text(text)


# ---- traffic -----------------------------------------------------------------------------------


class Traffic:
    """Synthetic users: normal requests to both stages, with the bug-triggering request mixed in."""

    def __init__(self, traffic: ModuleType, *, stages: dict[str, tuple[str, str]], users: int = 3) -> None:
        self.traffic = traffic
        self.stages = stages  # stage → (web base URL, api base URL)
        self.rng = random.Random(7)  # noqa: S311 - a repeatable traffic mix, not a secret
        self.users = [f"usr_{1000 + i * 37}" for i in range(users)]
        self.sent = 0
        self.errors: dict[str, int] = {"staging": 0, "production": 0}
        self.trigger_statuses: list[tuple[float, str, int]] = []
        self.first_error_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def burst(self, client: httpx.AsyncClient, *, stage: str, normal: int, triggers: int) -> None:
        """``normal`` ordinary requests with ``triggers`` bug-triggering ones spread among them."""
        every = max(1, normal // max(1, triggers))
        sent_triggers = 0
        for i in range(normal):
            await self._one(client, stage, self.rng.choice(self.traffic.NORMAL)(self.rng))
            if sent_triggers < triggers and i % every == 0:
                await self._one(client, stage, self.traffic.TRIGGERS[BAD_CHANGE](self.rng), trigger=True)
                sent_triggers += 1

    async def _one(self, client: httpx.AsyncClient, stage: str, call: Any, *, trigger: bool = False) -> None:
        web, api = self.stages[stage]
        base = web if call.service == "web" else api
        user = self.users[self.sent % len(self.users)]
        self.sent += 1
        try:
            response = await client.request(
                call.method, base + call.path, json=call.json, headers={"x-user-id": user, "x-request-id": f"demo-{self.sent}"}
            )
        except httpx.HTTPError:
            return  # a stage being redeployed refuses connections for a moment
        if response.status_code >= 500:
            self.errors[stage] += 1
            if self.first_error_at is None:
                self.first_error_at = time.monotonic()
        if trigger:
            self.trigger_statuses.append((time.monotonic(), stage, response.status_code))

    def start(self) -> None:
        """Keep both stages busy in the background (about 6 requests a second each)."""
        self._task = asyncio.create_task(self._run(), name="demo-traffic")

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                for stage in self.stages:
                    await self.burst(client, stage=stage, normal=3, triggers=1 if self.rng.random() < 0.3 else 0)
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """Stop the background users."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# ---- the live view -----------------------------------------------------------------------------


class Screen:
    """Timestamped lines, one per step of the loop."""

    def __init__(self, *, color: bool) -> None:
        self.t0 = time.monotonic()
        self.color = color

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def line(self, mark: str, what: str, detail: str = "", who: str = "") -> None:
        """Print one step: elapsed time, a mark, what happened, and which agent did it."""
        elapsed = time.monotonic() - self.t0
        marks = {"ok": ("✓", "32"), "step": ("▸", "36"), "wait": ("…", "33"), "fail": ("✗", "31"), "info": (" ", "0")}
        symbol, code = marks[mark]
        who_text = self._paint(f"  [{who}]", "2") if who else ""
        print(f"{elapsed:7.1f}s  {self._paint(symbol, code)} {self._paint(f'{what:<11}', '1')} {detail}{who_text}", flush=True)


class LoopFollower:
    """Reads every Medic topic and turns the events of the demo's issue into lines and timings."""

    def __init__(self, *, bootstrap: str, topics: TopicRegistry, screen: Screen, result: DemoResult, shipped_at: float) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.screen = screen
        self.result = result
        self.shipped_at = shipped_at
        self.approvals: asyncio.Queue[ApprovalRequested] = asyncio.Queue()
        self.done = asyncio.Event()
        self.deployments: list[DeploymentResult] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._seen_stages: set[str] = set()

    def mark(self, stage: str) -> None:
        """Record when a stage was first reached (seconds since the bad change shipped)."""
        if stage not in self.result.stages:
            self.result.stages[stage] = round(time.monotonic() - self.shipped_at, 1)

    async def run(self) -> None:
        names = [
            self.topics.name(t)
            for t in (
                TopicName.ISSUES_DETECTED,
                TopicName.DIAGNOSES_READY,
                TopicName.FIXES_COMMITTED,
                TopicName.DEPLOYMENTS_RESULT,
                TopicName.ACTIONS,
            )
        ]
        consumer = AIOKafkaConsumer(
            *names,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=250)
                for records in batch.values():
                    for record in records:
                        try:
                            event = event_adapter().validate_json(record.value)
                        except ValueError:
                            continue
                        self.on_event(event)
        finally:
            await consumer.stop()

    def _ours(self, event: Envelope) -> bool:
        return self.result.issue_id is not None and event.issue_id == self.result.issue_id

    def on_event(self, event: Envelope) -> None:
        r, s = self.result, self.screen
        if isinstance(event, IssueDetected):
            if r.issue_id is None and "practices" in (event.title + event.message + str(event.request)):
                r.issue_id, r.severity, r.title = event.issue_id, event.severity.value, event.title
                self.mark("detected")
                s.line(
                    "ok",
                    "detected",
                    f"{event.severity.value} {event.issue_type.value} “{event.title}” — "
                    f"{event.frequency.count} in {event.frequency.window_seconds}s, {event.affected_users} users",
                    "watcher",
                )
            elif self._ours(event) and event.reason.value != "new":
                r.severity = event.severity.value
                s.line(
                    "info",
                    "updated",
                    f"{event.reason.value}: now {event.severity.value} — {event.frequency.count} in "
                    f"{event.frequency.window_seconds}s, {event.affected_users} users",
                    "watcher",
                )
        elif isinstance(event, DiagnosisReady) and self._ours(event):
            self.mark("diagnosed")
            r.root_cause, r.strategy = event.root_cause, event.fix_strategy.value
            where = (
                f"{event.affected_file}:{event.affected_lines.first}-{event.affected_lines.last}"
                if event.affected_lines
                else str(event.affected_file)
            )
            s.line(
                "ok",
                "diagnosed",
                f"{event.fix_strategy.value} at {where} (confidence {event.confidence:.2f}, "
                f"{event.provider}): {event.root_cause[:110]}",
                "investigator",
            )
        elif isinstance(event, FixCommitted) and self._ours(event):
            self.mark("fix_committed")
            r.branch, r.commit, r.diff, r.regression_test = event.branch, event.commit_sha, event.diff, event.regression_test
            r.strategy = event.strategy.value
            r.tests = (
                f"{event.tests.command}: {event.tests.outcome.value} ({event.tests.passed} passed, {event.tests.failed} failed)"
            )
            test = f", regression test {event.regression_test}" if event.regression_test else ""
            s.line(
                "ok",
                "fixed",
                f"{event.commit_sha[:10]} on {event.branch}{test}; tests {event.tests.outcome.value} "
                f"({event.tests.passed} passed); PR {event.pr_url or event.pr_number}",
                "implementer",
            )
        elif isinstance(event, ApprovalRequested) and self._ours(event):
            self.mark(f"approval_{event.kind.value}_{len(r.approvals) + 1}")
            s.line(
                "wait",
                "approval",
                f"{event.kind.value} waits for a human: {event.reason} (id {event.approval_id})",
                event.producer.service,
            )
            self.approvals.put_nowait(event)
        elif isinstance(event, DeploymentResult) and self._ours(event):
            self.deployments.append(event)
            key = f"{event.stage.value}_{event.outcome.value}"
            r.outcomes.append(key)
            self.mark(key)
            failed = [c.name for c in event.checks if not c.passed]
            mark = (
                "fail"
                if event.outcome in (DeploymentOutcome.ROLLED_BACK, DeploymentOutcome.FAILED)
                else ("wait" if event.outcome in (DeploymentOutcome.AWAITING_APPROVAL, DeploymentOutcome.BLOCKED) else "ok")
            )
            detail = f"{event.outcome.value}: {event.reason}"[:160] + (f" (failed: {', '.join(failed)})" if failed else "")
            s.line(mark, event.stage.value, detail, "releaser")
        elif isinstance(event, ActionRecorded) and self._ours(event):
            if event.action == "releaser.deploy" and event.status is ActionStatus.SUCCEEDED:
                stage = "staging" if "staging" in event.summary else "production"
                if f"deploy_{stage}" not in self._seen_stages:
                    self._seen_stages.add(f"deploy_{stage}")
                    self.mark(f"{stage}_deployed")
                    s.line("step", stage, f"deployed — {event.summary[:120]}; watching", "releaser")
            elif event.action == "releaser.notify" and event.status is ActionStatus.SUCCEEDED:
                self.mark("notified")
                s.line("ok", "notified", event.summary[:140], "releaser")
            elif event.status in (ActionStatus.FAILED, ActionStatus.REFUSED):
                s.line("fail", event.action, event.summary[:150], event.producer.service)


# ---- the demo ----------------------------------------------------------------------------------


def _operator_env(api_url: str, token: str) -> dict[str, str]:
    return {**os.environ, "MEDIC_API_URL": api_url, "MEDIC_TOKEN": token}


async def _api(client: httpx.AsyncClient, method: str, path: str, token: str, **kwargs: Any) -> Any:
    response = await client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json() if response.content else None


async def _configure(api_url: str, admin: str, scenario: Scenario) -> str:
    """Set the autonomy level for the scenario through the API; return a note for the screen."""
    level = AutonomyLevel.MONITOR if scenario == "approval" else AutonomyLevel.FULL
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:
        current = await _api(client, "GET", "/api/v1/config", admin)
        config = MedicConfig.model_validate(current.get("config", current)).model_copy(update={"autonomy_level": level})
        body: dict[str, Any] = {"config": config.model_dump(mode="json"), "reason": f"medic demo ({scenario})"}
        if level is AutonomyLevel.FULL:
            body["override_reason"] = "demo: an unattended loop on the bundled example shop"
        await _api(client, "PUT", "/api/v1/config", admin, json=body)
    return (
        "level 1 — every change and deploy waits for a human"
        if level is AutonomyLevel.MONITOR
        else ("level 3 — full autonomy (admin override, audited)")
    )


async def _operator_token(api_url: str, admin: str) -> str:
    async with httpx.AsyncClient(base_url=api_url, timeout=10) as client:
        created = await _api(client, "POST", "/api/v1/tokens", admin, json={"name": "demo-operator", "role": "operator"})
    return str(created["token"])


async def _approve_through_cli(
    follower: LoopFollower, *, api_url: str, operator: str, screen: Screen, result: DemoResult
) -> None:
    """What an operator does: `medic approve ID --yes` for each request (the demo plays the human)."""
    medic = str(Path(sys.executable).with_name("medic"))
    while True:
        request = await follower.approvals.get()
        await asyncio.sleep(1.0)  # let control-api project the request first
        for _ in range(20):
            done = await asyncio.to_thread(
                subprocess.run,
                [medic, "approve", request.approval_id, "--yes", "--reason", "looks right (demo)"],
                env=_operator_env(api_url, operator),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if done.returncode == 0:
                break
            await asyncio.sleep(1.0)
        result.approvals.append(request.approval_id)
        mark = "ok" if done.returncode == 0 else "fail"
        screen.line(
            mark,
            "approved",
            f"$ medic approve {request.approval_id} --yes → {(done.stdout or done.stderr).strip()[:100]}",
            "operator",
        )


async def _deploy_initial(stage: DeploymentStage, deployer: Any, sha: str) -> None:
    ref = await deployer.start(stage=stage, ref=sha, sha=sha, key=f"demo-{stage.value}-{sha[:10]}")
    from medic_releaser.adapters.deployers.base import DeploymentStatus

    for _ in range(240):
        status = await deployer.status(stage=stage, deployment=ref)
        if status is DeploymentStatus.READY:
            return
        if status is DeploymentStatus.ERROR:
            raise RuntimeError(f"the {stage.value} deployment of {sha[:10]} did not start")
        await asyncio.sleep(0.25)
    raise RuntimeError(f"the {stage.value} deployment of {sha[:10]} was not ready in time")


async def _stop_deployments(deployer: Any) -> None:
    """Stop the shop processes the demo and the releaser started (they outlive a releaser on purpose)."""
    stop_all = getattr(deployer, "stop_all", None)
    if stop_all is not None:
        await stop_all()


def _git(repo: Path, *args: str) -> str:
    argv = [*hardened_argv(), *args]
    done = subprocess.run(argv, cwd=repo, env=hardened_env(os.environ), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def _is_ancestor(repo: Path, commit: str, ref: str) -> bool:
    argv = [*hardened_argv(), "merge-base", "--is-ancestor", commit, ref]
    done = subprocess.run(argv, cwd=repo, env=hardened_env(os.environ), capture_output=True, check=False)
    return done.returncode == 0


def _complete(result: DemoResult, scenario: Scenario) -> bool:
    if scenario == "rollback":
        return "staging_rolled_back" in result.outcomes
    return "production_promoted" in result.outcomes


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run one scenario end to end; the result says whether the loop completed."""
    root = repo_root()
    setup = _load(root / "examples" / "shop" / "setup_repo.py", "medic_demo_shop_setup")
    traffic_mod = _load(root / "examples" / "shop" / "traffic.py", "medic_demo_shop_traffic")
    work = options.work_dir.resolve() / options.scenario
    if work.exists():
        await asyncio.to_thread(shutil.rmtree, work)
    work.mkdir(parents=True)
    screen = Screen(color=options.color)
    result = DemoResult(scenario=options.scenario)
    node_bin = root / "tools" / "node" / "node_modules" / ".bin"
    path_env = os.pathsep.join([str(node_bin), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    os.environ["PATH"] = path_env  # the demo's own deployments of the app need tsx too

    screen.line("step", "setup", f"example shop → {work}/shop (git repo + local forge), scenario “{options.scenario}”")
    shop = await asyncio.to_thread(setup.materialise_shop, work / "shop", bad_changes=[])
    _tune_target(shop.medic_toml, scenario=options.scenario, fast=options.fast)

    from medic_contracts import load_target
    from medic_forge import build_forge
    from medic_releaser.app import build_deployer
    from medic_releaser.config import load_releaser_target

    # The demo deploys the healthy app itself, as the team did before Medic; same state dir as the releaser.
    target = load_releaser_target(load_target(shop.medic_toml))
    if options.scenario == "rollback":  # the fault belongs to the fix's deployment, not to the one running now
        staging = target.deployer.staging.model_copy(update={"env": {}}) if target.deployer.staging else None
        target = target.model_copy(update={"deployer": target.deployer.model_copy(update={"staging": staging})})
    forge = build_forge(
        dict(target.target.forge), base_dir=Path(target.target.base_dir), work_dir=work / "demo-forge", repo=shop.clone
    )
    deployer = build_deployer(target, forge=forge, data_dir=work)
    stages = {
        "staging": (f"http://127.0.0.1:{shop.ports.web_staging}", f"http://127.0.0.1:{shop.ports.api_staging}"),
        "production": (f"http://127.0.0.1:{shop.ports.web_production}", f"http://127.0.0.1:{shop.ports.api_production}"),
    }
    stack: DevStack | None = None
    traffic = Traffic(traffic_mod, stages=stages)
    tasks: list[asyncio.Task[Any]] = []
    service_logs = (work / "logs").open("a") if options.quiet_services else None
    try:
        healthy = _git(shop.clone, "rev-parse", "HEAD")
        for stage in (DeploymentStage.STAGING, DeploymentStage.PRODUCTION):
            await _deploy_initial(stage, deployer, healthy)
        screen.line(
            "ok", "deployed", f"healthy shop {healthy[:10]}: staging {stages['staging'][0]}, production {stages['production'][0]}"
        )

        prefix = f"demo{secrets.token_hex(3)}."
        env = {
            "MEDIC_TARGETS": str(shop.medic_toml),
            "MEDIC_TARGET_FILE": str(shop.medic_toml),
            "PATH": path_env,
            "MEDIC_SNAPSHOT_INTERVAL_S": "10",
            "MEDIC_KAFKA_FETCH_MAX_WAIT_MS": "20",
            "MEDIC_DASHBOARD_URL": "",
            "MEDIC_LLM_PROVIDER": "auto" if os.environ.get("ANTHROPIC_API_KEY") else "playbook",
        }

        def log_line(service: str, line: str) -> None:
            if service_logs is not None:
                service_logs.write(f"{service:<13}| {line}")
                service_logs.flush()

        stack = DevStack(
            StackConfig(data_dir=work / "medic", prefix=prefix, env=env, well_known_ports=options.well_known_ports),
            on_line=log_line,
        )
        screen.line("step", "medic", "starting the embedded broker, control-api (SQLite) and the four agents")
        await stack.start()
        api_url = stack.urls()["control-api"]
        result.dashboard_url = f"{api_url}/dashboard/agent-control"
        result.admin_token = stack.tokens["admin"]
        ports = ", ".join(f"{name} :{port}" for name, port in stack.ports.items())
        screen.line("ok", "medic", f"running: {ports}")
        note = await _configure(api_url, stack.tokens["admin"], options.scenario)
        screen.line("ok", "policy", note, "control-api")
        operator = await _operator_token(api_url, stack.tokens["admin"])

        # Ship the bad change: committed, pushed to the forge, deployed to staging and production.
        patch = root / "examples" / "shop" / "bad-changes" / f"{BAD_CHANGE}.patch"
        _git(shop.clone, "am", "-q", "--ignore-date", str(patch))
        bad = _git(shop.clone, "rev-parse", "HEAD")
        _git(shop.clone, "push", "-q", "origin", "HEAD:main", "HEAD:staging")
        for stage in (DeploymentStage.STAGING, DeploymentStage.PRODUCTION):
            await _deploy_initial(stage, deployer, bad)
        shipped_at = time.monotonic()
        screen.line(
            "fail",
            "shipped",
            f"bad change {BAD_CHANGE} ({bad[:10]}: “{_git(shop.clone, 'log', '-1', '--format=%s')}”) to staging and production",
        )

        follower = LoopFollower(
            bootstrap=stack.bootstrap, topics=TopicRegistry(prefix), screen=screen, result=result, shipped_at=shipped_at
        )
        tasks.append(asyncio.create_task(follower.run(), name="demo-follow"))
        if options.scenario == "approval":
            tasks.append(
                asyncio.create_task(
                    _approve_through_cli(follower, api_url=api_url, operator=operator, screen=screen, result=result),
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

        deadline = time.monotonic() + options.timeout_s
        while not _complete(result, options.scenario):
            if time.monotonic() > deadline:
                reached = ", ".join(result.stages) or "nothing"
                result.reason = f"timed out after {options.timeout_s:.0f}s waiting for the loop (reached: {reached})"
                break
            if exited := stack.exited():
                result.reason = f"a service exited: {exited}"
                break
            terminal = {"staging_failed", "production_failed", "production_rolled_back", "staging_blocked"}
            if options.scenario != "rollback" and terminal & set(result.outcomes) - {"staging_blocked"}:
                result.reason = f"the release ended badly: {', '.join(result.outcomes)}"
                break
            await asyncio.sleep(0.5)

        if _complete(result, options.scenario) and options.scenario == "rollback":
            result.completed = await _verify_rollback(
                result, deployer=deployer, released=bad, forge=work / "shop" / "forge.git", screen=screen
            )
            follower.mark("verified")
            if not result.completed:
                result.reason = "verification failed: the stages do not run the release from before the fix"
        elif _complete(result, options.scenario):
            result.completed = await _verify(result, options, traffic, screen, follower)
            if not result.completed and not result.reason:
                result.reason = "verification failed"
        _summary(result, screen)
        (work / "summary.json").write_text(json.dumps(result.as_dict(), indent=2, default=str))
        if options.keep_running and stack is not None:
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
        if stack is not None:
            await stack.stop()
        await _stop_deployments(deployer)
        if service_logs is not None:
            service_logs.close()


async def _verify_rollback(result: DemoResult, *, deployer: Any, released: str, forge: Path, screen: Screen) -> bool:
    """After the rollback: both stages run the release from before the fix, and the staging merge is undone."""
    for _ in range(60):  # the redeploy may finish just after the result is announced
        staging = await deployer.current(stage=DeploymentStage.STAGING)
        if staging is not None and staging.sha == released:
            break
        await asyncio.sleep(0.5)
    production = await deployer.current(stage=DeploymentStage.PRODUCTION)
    staging_sha = staging.sha if staging else None
    production_sha = production.sha if production else None
    merge_undone = _git(forge, "rev-parse", "staging^{tree}") == _git(forge, "rev-parse", f"{released}^{{tree}}")
    fix_in_main = result.commit is not None and _is_ancestor(forge, result.commit, "main")
    ok = staging_sha == released and production_sha == released and merge_undone and not fix_in_main
    screen.line(
        "ok" if ok else "fail",
        "verified",
        f"staging runs {str(staging_sha)[:10]} again, production {str(production_sha)[:10]} (the release before the fix); "
        f"staging merge {'reverted' if merge_undone else 'NOT reverted'}; main {'has' if fix_in_main else 'never got'} the fix",
        "releaser",
    )
    return ok


async def _verify(result: DemoResult, options: DemoOptions, traffic: Traffic, screen: Screen, follower: LoopFollower) -> bool:
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


def _summary(result: DemoResult, screen: Screen) -> None:
    print()
    status = "COMPLETED" if result.completed else f"DID NOT COMPLETE — {result.reason}"
    print(f"  Medic demo ({result.scenario}): {status}")
    if result.issue_id:
        print(f"  issue       {result.issue_id}: {result.severity} “{result.title}”")
    if result.root_cause:
        print(f"  root cause  {result.root_cause[:150]}")
    if result.commit:
        print(f"  fix         {result.commit[:12]} on {result.branch} ({result.strategy})")
        print(f"  tests       {result.tests[:120]}")
    if result.regression_test:
        print(f"  reg. test   {result.regression_test}")
    if result.approvals:
        print(f"  approvals   {', '.join(result.approvals)} (given with `medic approve`)")
    print("  timeline (seconds after the bad change shipped):")
    for stage, seconds in sorted(result.stages.items(), key=lambda kv: kv[1]):
        print(f"    {seconds:7.1f}  {stage}")
    if result.diff:
        print("  diff:")
        for line in result.diff.splitlines()[:60]:
            print(f"    {line}")
    print(f"  dashboard   {result.dashboard_url}")
    print()


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
