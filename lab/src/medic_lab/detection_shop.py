"""The parts ``medic bench detection`` runs for real: the demo's shop, its users, the watcher, the issues it publishes.

- **The shop** is set up the way ``medic demo`` sets it up (``examples/shop/setup_repo.py`` through
  :mod:`medic.demo.setup`: a git repository with a local forge and a rendered ``medic.toml``) and
  deployed by the releaser's own command deployer from that target file, so whatever the shop's
  ``[deployer]`` section starts (``scripts/serve.py``: web and api; the web service with tsx) is what runs.
- **Its users** come from ``examples/shop/traffic.py``: its normal requests, and the requests its
  bad changes break (a missing practice, a digital order...), which a healthy build answers
  correctly and so belong to normal traffic too. They are sent open-loop (fixed arrival times,
  however slow the answers) over the shop's HTTP routes only.
- **The watcher** is the ``medic-watcher`` process, started like the test kit starts services, on
  the shop's own target file (its log-file and health-check sources), with an embedded broker; the
  bench reads the ``IssueDetected`` events it publishes from the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import tomli_w
from aiokafka import AIOKafkaConsumer

from medic.demo.setup import build_shop_deployer, deploy, git, load_example, repo_root
from medic_contracts import DeploymentStage, IssueDetected, TopicName, TopicRegistry, event_adapter
from medic_runtime.embedded import free_port
from medic_runtime.kafka_admin import declare_topics
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

__all__ = ["Arrival", "IssueLog", "Pace", "Shop", "Users", "WatcherProcess", "arrivals"]

#: The bad deploy ships the demo's bad change (the seed: a missing practice crashes instead of 404).
BAD_CHANGE = "001-practice-null-check"
#: Share of requests that are the ones a bad change would break (answered correctly by a healthy build).
EDGE_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request's planned start (seconds from the start of traffic)."""

    at: float


@dataclass(slots=True)
class Pace:
    """The run's clock: seconds of plan since the start, held back while the machine cannot keep up.

    On a busy machine the users may fall behind their plan; sending the late requests all at once
    would be a traffic spike nobody injected, so the plan (and the fault schedule with it) slips instead.
    """

    started: float = field(default_factory=time.monotonic)
    slipped: float = 0.0

    def due(self, at: float) -> float:
        """Seconds until plan time ``at``; when more than half a second late, the plan slips to now."""
        wait = self.started + self.slipped + at - time.monotonic()
        if wait < -0.5:
            self.slipped -= wait
            return 0.0
        return max(0.0, wait)


def arrivals(*, requests: int, rate: float, spike: tuple[float, float, float] | None, rng: random.Random) -> list[Arrival]:
    """``requests`` Poisson arrivals at ``rate`` per second; ``factor`` times faster in ``spike`` = (start, end, factor)."""
    planned: list[Arrival] = []
    t = 0.0
    while len(planned) < requests:
        factor = spike[2] if spike and spike[0] <= t < spike[1] else 1.0
        t += rng.expovariate(rate * factor)
        planned.append(Arrival(t))
    return planned


class Shop:
    """The example shop, set up and deployed as the demo does it; production is what users and the watcher see."""

    def __init__(self, work: Path) -> None:
        root = repo_root()
        self.work = work
        self.setup = load_example(root / "examples" / "shop" / "setup_repo.py", "medic_bench_shop_setup")
        self.traffic: ModuleType = load_example(root / "examples" / "shop" / "traffic.py", "medic_bench_shop_traffic")
        self.patch = root / "examples" / "shop" / "bad-changes" / f"{BAD_CHANGE}.patch"
        # As the demo does: the deployments run the app with tsx from the checkout's tools/node.
        node_bin = root / "tools" / "node" / "node_modules" / ".bin"
        os.environ["PATH"] = os.pathsep.join([str(node_bin), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        self.repo: Any = None
        self.deployer: Any = None
        self.slow_deployer: Any = None
        self.healthy = ""
        self.bad = ""

    def materialise(self, *, slow_db_ms: int) -> None:
        """The repository (healthy head, the bad change committed after it) and the target files."""
        # The web service runs from source (tsx): the bench measures the watcher, and a Next.js build per release
        # would only add minutes to it (the demo deploys the next build).
        self.repo = self.setup.materialise_shop(self.work / "shop", bad_changes=[], web="tsx")
        self.healthy = git(self.repo.clone, "rev-parse", "HEAD")
        git(self.repo.clone, "am", "-q", "--ignore-date", str(self.patch))
        self.bad = git(self.repo.clone, "rev-parse", "HEAD")
        git(self.repo.clone, "push", "-q", "origin", "HEAD:main")
        self.deployer = build_shop_deployer(self.repo.medic_toml, scenario="fix", work=self.work, clone=self.repo.clone)
        # A degraded database is the same release deployed with slow queries (the demo's rollback fault, in production).
        slow = self.work / "medic-slow-db.toml"
        target: dict[str, Any] = tomllib.loads(self.repo.medic_toml.read_text())
        target["deployer"]["production"]["env"] = {"SHOP_DB_LATENCY_MS": str(slow_db_ms)}
        slow.write_text(tomli_w.dumps(target))
        self.slow_deployer = build_shop_deployer(slow, scenario="fix", work=self.work, clone=self.repo.clone)

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.repo.ports.web_production}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.repo.ports.api_production}"

    async def deploy(self, sha: str, *, key: str, slow_db: bool = False) -> None:
        """Deploy ``sha`` to production (stopping what runs there) and wait until it answers."""
        deployer = self.slow_deployer if slow_db else self.deployer
        await deploy(DeploymentStage.PRODUCTION, _Keyed(deployer, key), sha)

    def watcher_target(self, *, poll_s: float) -> Path:
        """The shop's target file with every source polled every ``poll_s`` seconds."""
        target: dict[str, Any] = tomllib.loads(self.repo.medic_toml.read_text())
        for source in target.get("sources", []):
            source["interval_s"] = poll_s
        path = self.work / "medic-watcher.toml"
        path.write_text(tomli_w.dumps(target))
        return path

    async def stop(self) -> None:
        for deployer in (self.deployer, self.slow_deployer):
            if deployer is not None:
                with contextlib.suppress(Exception):
                    await deployer.stop_all()


class _Keyed:
    """The deployer with the bench's own deploy key (the demo's key is per sha; the bench redeploys a sha)."""

    def __init__(self, deployer: Any, key: str) -> None:
        self.deployer, self.key = deployer, key

    async def start(self, *, stage: DeploymentStage, ref: str, sha: str, key: str) -> Any:
        return await self.deployer.start(stage=stage, ref=ref, sha=sha, key=self.key)

    async def status(self, *, stage: DeploymentStage, deployment: Any) -> Any:
        return await self.deployer.status(stage=stage, deployment=deployment)


@dataclass(slots=True)
class Users:
    """The shop's users: each planned arrival is one request from traffic.py's mix, sent whatever the previous answer."""

    traffic: ModuleType
    web: str
    api: str
    rng: random.Random
    users: int = 12
    sent: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def _call(self) -> Any:
        if self.rng.random() < EDGE_SHARE:
            return self.rng.choice(list(self.traffic.TRIGGERS.values()))(self.rng)
        return self.rng.choice(self.traffic.NORMAL)(self.rng)

    async def run(self, plan: Sequence[Arrival], *, pace: Pace) -> None:
        """Send every planned request at its time (at most 200 in flight).

        aiohttp, not httpx: a request costs the client several times less CPU, and on a shared
        machine the spike must come from the users, not be capped by their client.
        """
        limit = asyncio.Semaphore(200)
        tasks: set[asyncio.Task[None]] = set()
        timeout = aiohttp.ClientTimeout(total=10.0)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=200)) as client:
            for arrival in plan:
                delay = pace.due(arrival.at)
                if delay > 0:
                    await asyncio.sleep(delay)
                await limit.acquire()
                task = asyncio.create_task(self._one(client, self._call(), limit))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks, timeout=30)

    async def _one(self, client: aiohttp.ClientSession, call: Any, limit: asyncio.Semaphore) -> None:
        self.sent += 1
        base = self.web if call.service == "web" else self.api
        headers = {"x-user-id": f"usr_{1000 + self.rng.randrange(self.users) * 37}", "x-request-id": f"bench-{self.sent}"}
        try:
            async with client.request(call.method, base + call.path, json=call.json, headers=headers) as response:
                await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__  # production being redeployed refuses connections for a moment
        finally:
            limit.release()
        self.statuses[status] = self.statuses.get(status, 0) + 1


class WatcherProcess:
    """``medic-watcher`` on the shop's target, with its own store, on a broker; time compressed by ``bucket_s``."""

    def __init__(self, *, target: Path, bootstrap: str, work: Path, bucket_s: int) -> None:
        self.prefix = f"detect{free_port()}."
        env = test_env(
            bootstrap,
            self.prefix,
            work / "watcher-data",
            MEDIC_TARGETS=str(target),
            MEDIC_ANOMALY_BUCKET_S=str(bucket_s),
            MEDIC_CONTROL_CATCH_UP_TIMEOUT_S="5",
            MEDIC_LOG_LEVEL="WARNING",
        )
        self.process = ServiceProcess.console_script("watcher", "medic-watcher", env=env, log_dir=work)

    async def start(self, bootstrap: str) -> None:
        # The topics exist before it publishes (as `medic dev up` declares them).
        await declare_topics(bootstrap, TopicRegistry(self.prefix))
        self.process.start()
        await asyncio.to_thread(self.process.wait_healthy, 120)

    def stop(self) -> None:
        self.process.stop()


@dataclass(slots=True)
class IssueLog:
    """Every IssueDetected the watcher publishes, with the wall-clock second the bench received it."""

    bootstrap: str
    topic: str
    issues: list[tuple[float, IssueDetected]] = field(default_factory=list)

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=250)
                for records in batch.values():
                    for record in records:
                        with contextlib.suppress(ValueError):
                            event = event_adapter().validate_json(record.value)
                            if isinstance(event, IssueDetected):
                                self.issues.append((time.time(), event))
        finally:
            await consumer.stop()

    @classmethod
    def for_watcher(cls, watcher: WatcherProcess, bootstrap: str) -> IssueLog:
        return cls(bootstrap=bootstrap, topic=TopicRegistry(watcher.prefix).name(TopicName.ISSUES_DETECTED))
