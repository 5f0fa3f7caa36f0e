"""The shop's web service as a real Next.js build served by ``next start``, reporting to a running watcher.

One build for the module: the shop with two bad changes (the seed's dropped null check in the web service, the
stats division by zero in the API) is built by ``scripts/build.py`` (npm ci from the lockfile, next build, with a
build cache); a second checkout of a commit that only adds a test takes that build from the cache and is served by
``scripts/serve.py --web next`` (next start and uvicorn), both services' official Sentry SDKs pointed at a
medic-watcher process's ingest. Traffic then shows the house logs, /health, /metrics and the bare 500 body, and the
SDKs' events become issues on the bus; the ``.next/server`` frames of both the logged stack and the Sentry event
are taken back to the route.ts line by the build's server source maps (and to the file by Next.js's path
conventions without them).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from medic_contracts import IssueDetected, TopicName, TopicRegistry
from medic_runtime.kafka_admin import declare_topics
from medic_stacktrace import RepoPathResolver, SourceMapper, find_culprit, parse_trace
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess
from medic_testing.runtime.topics import read_topic

from .test_shop import git, setup_repo, traffic

pytestmark = [pytest.mark.slow, pytest.mark.kafka, pytest.mark.e2e, pytest.mark.timeout(900)]

BAD = ("001-practice-null-check", "003-stats-division-by-zero")
ROUTE = "web/src/app/api/practices/[id]/route.ts"
BUILT_ROUTE = ".next/server/app/api/practices/[id]/route.js"


@dataclass
class Served:
    """The running stage (second checkout) and what it was built and driven with."""

    shop: Any
    checkout: Path
    reused_build: str
    watcher: ServiceProcess
    topics: TopicRegistry
    bootstrap: str
    web: str
    api: str
    run: dict[str, Any]
    sha: str

    def log(self, service: str) -> list[dict[str, Any]]:
        path = self.shop.log_dir / f"{service}-production.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


def _wait_healthy(urls: list[str], process: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve.py exited {process.returncode}: {process.stderr.read() if process.stderr else ''}"
        try:
            if all(httpx.get(url, timeout=1).status_code == 200 for url in urls):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not healthy: {urls}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, tool_env: dict[str, str]) -> Iterator[Served]:
    if shutil.which("npm") is None:
        pytest.skip("node/npm are not installed (scripts/install-system.sh installs nodejs)")
    root = tmp_path_factory.mktemp("nextshop")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    asyncio.run(declare_topics(kafka_bootstrap, TopicRegistry(prefix)))
    key = secrets.token_hex(8)
    watcher_env = test_env(kafka_bootstrap, prefix, root, MEDIC_LOG_FORMAT="text", **{setup_repo.SENTRY_KEYS_ENV: key})
    watcher = ServiceProcess.console_script("watcher", "medic-watcher", env=watcher_env, log_dir=root)
    ingest = setup_repo.SentryIngest(url=watcher.url, key=key)
    shop = setup_repo.materialise_shop(root / "shop", bad_changes=BAD, web="next", sentry=ingest)

    # Only the shop's Sentry ingest sources: an issue on the bus can only have come through an SDK.
    target = tomllib.loads(shop.medic_toml.read_text())
    target["sources"] = [s for s in target["sources"] if s["kind"] == "sentry_ingest"]
    watcher_toml = root / "medic-watcher.toml"
    watcher_toml.write_text(tomli_w.dumps(target))
    watcher.env["MEDIC_TARGETS"] = str(watcher_toml)
    watcher.start()

    cache = root / "build-cache"
    build = [sys.executable, "scripts/build.py", "--cache-dir", str(cache)]
    _run(build, shop.clone, tool_env)
    second = root / "second"
    git(root, "clone", "-q", str(shop.forge), str(second))
    (second / "web" / "tests" / "extra.test.ts").write_text('import { test } from "node:test";\ntest("extra", () => {});\n')
    git(second, "add", "-A")
    git(second, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "Add a test")
    reused = _run(build, second, tool_env).stdout
    sha = git(second, "rev-parse", "HEAD")

    ports = shop.ports
    env = {
        **tool_env,
        "SHOP_DB_LATENCY_MS": "2",
        "SHOP_WEB_SENTRY_DSN": ingest.dsn(setup_repo.WEB_SENTRY_PROJECT),
        "SHOP_API_SENTRY_DSN": ingest.dsn(setup_repo.API_SENTRY_PROJECT),
    }
    argv = [sys.executable, "scripts/serve.py", "--web", "next", "--stage", "production", "--port", str(ports.web_production)]
    argv += ["--api-port", str(ports.api_production), "--log-dir", str(shop.log_dir)]
    stage = subprocess.Popen(argv, cwd=second, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    web, api = f"http://127.0.0.1:{ports.web_production}", f"http://127.0.0.1:{ports.api_production}"
    try:
        watcher.wait_healthy(timeout=120)
        _wait_healthy([f"{web}/health", f"{api}/health"], stage)
        run = traffic.drive(web=web, api=api, requests=40, triggers=list(BAD), trigger_every=4, users=4)
        yield Served(shop, second, reused, watcher, TopicRegistry(prefix), kafka_bootstrap, web, api, run, sha)
    finally:
        if stage.poll() is None:
            stage.send_signal(signal.SIGTERM)
            try:
                stage.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stage.kill()
        watcher.stop()


def test_a_checkout_that_only_adds_a_test_serves_the_build_of_the_same_web_tree(served: Served) -> None:
    assert "the build of this web/ tree" in served.reused_build and "next build" not in served.reused_build
    build_id = (served.checkout / "web" / ".next" / "BUILD_ID").read_text()
    assert build_id == (served.shop.clone / "web" / ".next" / "BUILD_ID").read_text()
    health = httpx.get(f"{served.web}/health").json()
    assert health == {"status": "ok", "release": f"shop-web@{served.sha[:12]}", "commit": served.sha}


def test_next_start_answers_a_crash_with_a_bare_500_and_counts_it_in_metrics(served: Served) -> None:
    crashed = httpx.get(f"{served.web}/api/practices/prc_999")
    assert crashed.status_code == 500 and crashed.json() == {"error": "Internal Server Error"}
    assert crashed.headers["x-request-id"]
    assert httpx.get(f"{served.web}/api/practices/prc_101").json()["id"] == "prc_101"
    metrics = httpx.get(f"{served.web}/metrics").text
    assert 'http_requests_total{route="/api/practices/:id",method="GET",status="500"}' in metrics
    assert 'http_request_duration_seconds_bucket{route="/api/search",le="+Inf"}' in metrics


def test_the_next_build_writes_the_house_log_lines(served: Served) -> None:
    lines = served.log("web")
    requests = [line for line in lines if line["msg"] == "request"]
    assert {"/api/practices", "/api/practices/:id", "/api/search", "/api/orders"} <= {line["route"] for line in requests}
    assert all(isinstance(line["duration_ms"], float | int) and line["status"] < 500 for line in requests)
    errors = [line for line in lines if line["level"] == "error"]
    assert errors and {line["route"] for line in errors} == {"/api/practices/:id"}
    crash = errors[0]
    assert crash["msg"] == "Unhandled error in GET /api/practices/:id" and crash["status"] == 500
    assert crash["service"] == "web" and crash["environment"] == "production" and crash["commit"] == served.sha
    assert crash["user_id"].startswith("usr_") and crash["request_id"]
    assert crash["error"]["type"] == "TypeError" and "null" in crash["error"]["message"]
    assert f"web/{BUILT_ROUTE}:1:" in crash["error"]["stack"]  # the built server code, not the TypeScript
    assert any(line["error"]["type"] == "ZeroDivisionError" for line in served.log("api") if line["level"] == "error")


def _issues(served: Served, services: set[str]) -> dict[str, IssueDetected]:
    def seen(items: list[Any]) -> bool:
        return services <= {i.service for i in items if isinstance(i, IssueDetected)}

    items = asyncio.run(read_topic(served.bootstrap, served.topics.name(TopicName.ISSUES_DETECTED), until=seen, timeout=90))
    return {i.service: i for i in items if isinstance(i, IssueDetected)}


def test_both_services_report_through_their_sentry_sdks_to_the_watchers_ingest(served: Served) -> None:
    issues = _issues(served, {"web", "api"})
    web, api = issues["web"], issues["api"]
    assert web.source == "sentry" and web.title.startswith("TypeError: Cannot read properties of null")
    assert web.release == f"shop-web@{served.sha[:12]}" and web.environment == "production"
    assert any(frame.file.endswith(BUILT_ROUTE) for frame in web.frames), web.frames
    assert api.source == "sentry" and api.title.startswith("ZeroDivisionError")
    sources = httpx.get(f"{served.watcher.url}/sources").json()["targets"]["shop"]
    assert sources["web-sentry"]["events"] >= 1 and sources["api-sentry"]["events"] >= 1


def _bad_line(checkout: Path) -> int:
    lines = (checkout / ROUTE).read_text().splitlines()
    return next(i for i, text in enumerate(lines, start=1) if "id: practice.id" in text)


def test_the_served_stack_maps_to_the_route_ts_line_through_the_builds_source_maps(served: Served) -> None:
    assert list((served.checkout / "web" / ".next" / "server" / "app").rglob("route.js.map")), "no server source maps"
    crash = next(line for line in served.log("web") if line["level"] == "error")
    trace = parse_trace(crash["error"]["stack"])
    assert trace is not None
    assert trace.exceptions[-1].frames[-1].file.endswith(BUILT_ROUTE)
    mapped = SourceMapper(served.checkout).map_trace(trace)
    files = RepoPathResolver(git(served.checkout, "ls-files").splitlines())
    top = mapped.exceptions[-1].frames[-1]
    assert files.resolve(top.file) == ROUTE and top.line == _bad_line(served.checkout), top
    assert top.context_line is not None and "practice.id" in top.context_line
    culprit = find_culprit(mapped, files)
    assert culprit is not None and (culprit.repo_path, culprit.line) == (ROUTE, _bad_line(served.checkout))
    # without the maps, Next.js's path conventions still name the file
    unmapped = find_culprit(trace, files)
    assert unmapped is not None and unmapped.repo_path == ROUTE


def test_the_sentry_events_next_frame_maps_to_the_same_route_ts_line(served: Served) -> None:
    web = _issues(served, {"web"})["web"]
    top = next(frame for frame in reversed(web.frames) if frame.file.endswith(BUILT_ROUTE))
    mapped = SourceMapper(served.checkout).map_frame(top)
    files = RepoPathResolver(git(served.checkout, "ls-files").splitlines())
    assert (files.resolve(mapped.file), mapped.line) == (ROUTE, _bad_line(served.checkout))
