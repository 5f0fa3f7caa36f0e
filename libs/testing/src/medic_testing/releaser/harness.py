"""Test harness for the releaser: a real bare repository holding a tiny real app, real ports, the bus.

Used by the releaser's tests, the cross-service fault tests and `medic bench faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from medic_contracts import (
    CommandName,
    ControlCommand,
    Envelope,
    FixCommitted,
    FixStrategy,
    IssueBrief,
    IssueType,
    MedicConfig,
    Producer,
    Severity,
    TopicName,
    TopicRegistry,
    event_adapter,
)
from medic_contracts import TestOutcome as Outcome
from medic_contracts import TestReport as Report
from medic_runtime import encode_event

APP = Path(__file__).parent / "targetapp" / "app.py"
TEST_PRODUCER = Producer(service="test", instance="test-1")
HEALTHY: dict[str, Any] = {"version": 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "PATH": "/usr/bin:/bin:/usr/local/bin"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


@dataclass
class TargetRepo:
    """A work clone and its bare ``origin`` with main and staging, holding the test app."""

    root: Path
    work: Path
    remote: Path

    def head(self, branch: str) -> str:
        return git("rev-parse", branch, cwd=self.remote)

    def behaviour_on(self, branch: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(git("show", f"{branch}:behaviour.json", cwd=self.remote))
        return data

    def make_fix(
        self, issue_id: str, behaviour: dict[str, Any] | None, files: dict[str, str] | None = None
    ) -> tuple[str, str, str]:
        """Commit a "fix" on agent/fix-<issue_id> from main setting the behaviour (and ``files``): branch, sha, diff."""
        branch = f"agent/fix-{issue_id}"
        git("checkout", "-q", "-B", branch, "origin/main", cwd=self.work)
        if behaviour is not None:
            (self.work / "behaviour.json").write_text(json.dumps(behaviour) + "\n")
        for name, text in (files or {}).items():
            (self.work / name).write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "-qm", f"fix {issue_id}", cwd=self.work)
        git("push", "-q", "-f", "origin", branch, cwd=self.work)
        diff = git("diff", "origin/main", branch, cwd=self.work)
        return branch, git("rev-parse", "HEAD", cwd=self.work), diff


def make_repo(root: Path) -> TargetRepo:
    remote, work = root / "remote.git", root / "work"
    remote.parent.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=root)
    git("init", "-q", "-b", "main", str(work), cwd=root)
    shutil.copy(APP, work / "app.py")
    (work / "behaviour.json").write_text(json.dumps(HEALTHY) + "\n")
    git("add", ".", cwd=work)
    git("commit", "-qm", "initial", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    git("push", "-q", "origin", "main:staging", cwd=work)
    git("fetch", "-q", "origin", cwd=work)
    return TargetRepo(root=root, work=work, remote=remote)


@dataclass
class Stage:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Target:
    """A medic.toml for the test app with a staging and a production stage on free ports."""

    repo: TargetRepo
    toml: Path
    staging: Stage
    production: Stage
    state_dir: Path
    release: dict[str, Any] = field(default_factory=dict)


def write_target(repo: TargetRepo, *, release: dict[str, Any] | None = None, name: str = "shop") -> Target:
    root = repo.root
    staging = Stage(free_port(), root / "staging.log")
    production = Stage(free_port(), root / "production.log")
    for stage in (staging, production):
        stage.log.touch()
    state_dir = root / "deploys"
    rel: dict[str, Any] = {
        "staging_watch_s": 2.0, "production_watch_s": 2.0, "sample_interval_s": 0.25, "baseline_s": 0.5,
        "threshold": 2, "approval_poll_s": 0.2, "blocked_retry_s": 0.5, "deploy_timeout_s": 20,
        # The machine running the tests is shared and loaded: a few ms of scheduling noise is not a regression.
        "latency_floor_ms": 40,
    }  # fmt: skip
    rel.update(release or {})

    def stage_checks(stage: Stage) -> str:
        return (
            f'health = ["{stage.url}/health"]\nmetrics_url = "{stage.url}/metrics"\nlogfile = "{stage.log}"\n'
            f'smoke = [{{ url = "{stage.url}/version", contains = "version" }}]\n'
        )

    def stage_deploy(stage: Stage) -> str:
        return (
            f'run = "{shutil.which("python3") or "python3"} app.py {{port}}"\nport = {stage.port}\n'
            f'ready_url = "{stage.url}/version"\nready_timeout_s = 15\nurl = "{stage.url}"\n'
            f'env = {{ APP_LOG = "{stage.log}" }}\n'
        )

    release_lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in rel.items())
    text = f"""
[target]
name = "{name}"
repo = "{repo.work}"
language = "python"
test_command = "true"

[release]
{release_lines}

[release.staging]
{stage_checks(staging)}
[release.production]
{stage_checks(production)}
[deployer]
kind = "command"
state_dir = "{state_dir}"
poll_s = 0.2

[deployer.staging]
{stage_deploy(staging)}
[deployer.production]
{stage_deploy(production)}
[forge]
kind = "local"
remote = "{repo.remote}"

[[notifiers]]
kind = "console"
"""
    toml = root / "medic.toml"
    toml.write_text(text)
    return Target(repo=repo, toml=toml, staging=staging, production=production, state_dir=state_dir, release=rel)


def fix_event(
    repo: TargetRepo,
    *,
    issue_id: str,
    behaviour: dict[str, Any] | None,
    severity: Severity = Severity.P2,
    affected_users: int = 2,
    target: str = "shop",
    title: str = "KeyError: 'practice'",
    fingerprint: str = "fp-practice",
    files: dict[str, str] | None = None,
) -> FixCommitted:
    branch, sha, diff = repo.make_fix(issue_id, behaviour, files)
    return FixCommitted(
        producer=Producer(service="implementer", instance="impl-1"),
        issue_id=issue_id,
        issue=IssueBrief(target=target, service="web", title=title, severity=severity, issue_type=IssueType.API_ERROR,
                         fingerprint=fingerprint, affected_users=affected_users),
        repository=str(repo.remote),
        branch=branch,
        base_sha=repo.head("main"),
        commit_sha=sha,
        files_changed=("behaviour.json",),
        diff=diff,
        diff_hash="sha256:" + hashlib.sha256(diff.encode()).hexdigest(),
        strategy=FixStrategy.NULL_GUARD,
        tests=Report(command="true", outcome=Outcome.PASSED, passed=1, sandboxed=True),
    )  # fmt: skip


# ---- bus helpers -----------------------------------------------------------------------------


async def publish(bootstrap: str, topics: TopicRegistry, *events: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            value, key, headers = encode_event(event)
            await producer.send_and_wait(
                topics.for_event(event), value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
            )
    finally:
        await producer.stop()


def control_state(config: MedicConfig | None, *, paused: bool = False, reason: str = "") -> ControlCommand:
    return ControlCommand(
        producer=Producer(service="control-api", instance="ctl-1"),
        command=CommandName.STATE_SNAPSHOT,
        actor="system",
        paused=paused,
        reason=reason,
        config=config.model_dump(mode="json") if config else None,
        config_version=config.version if config else None,
    )


class EventLog:
    """Reads every topic of a test prefix from the beginning, in the background."""

    def __init__(self, bootstrap: str, topics: TopicRegistry) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.events: list[Envelope] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventLog:
        names = [self.topics.name(t) for t in (TopicName.DEPLOYMENTS_RESULT, TopicName.ACTIONS)]
        self.consumer = AIOKafkaConsumer(
            *names, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
            group_id=None, fetch_max_wait_ms=100,
        )  # fmt: skip
        await self.consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            for records in batch.values():
                for record in records:
                    with contextlib.suppress(ValueError):
                        self.events.append(event_adapter().validate_json(record.value))

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[list[Envelope]], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.events)
            if result:
                return result
            if time.monotonic() > deadline:
                summary = [(type(e).__name__, getattr(e, "action", getattr(e, "outcome", ""))) for e in self.events]
                raise AssertionError(f"condition not met in {timeout}s; events: {summary}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def traffic(*urls: str, every_s: float = 0.02) -> AsyncIterator[None]:
    """Keep requests flowing to ``urls`` (what real users would do) while the block runs."""

    async def loop() -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                for url in urls:
                    with contextlib.suppress(httpx.HTTPError):
                        await client.get(url)
                await asyncio.sleep(every_s)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_http(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).is_success:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not come up")
