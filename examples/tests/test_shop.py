"""The example shop is a real target: its repository has history with each bad change as its own
commit, its suites pass (the bad changes slip past them), its medic.toml is a valid target, and
when it runs, the traffic script makes every bad change show up in the JSON-lines logs (500s with
stacks, slower search) while the healthy build serves the same traffic cleanly."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from medic_contracts import load_target

SHOP = Path(__file__).resolve().parents[1] / "shop"
ALL_BAD = (
    "001-practice-null-check",
    "002-order-missing-delivery-key",
    "003-stats-division-by-zero",
    "004-next-appointment-empty-list",
    "005-search-n-plus-one-latency",
)


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"shop_{name}", SHOP / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


setup_repo = _module("setup_repo")
traffic = _module("traffic")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return setup_repo.materialise_shop(tmp_path_factory.mktemp("healthy") / "shop", bad_changes=())


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return setup_repo.materialise_shop(tmp_path_factory.mktemp("broken") / "shop", bad_changes=ALL_BAD)


def test_every_bad_change_ships_as_a_patch_with_a_commit_message() -> None:
    assert tuple(setup_repo.bad_change_names()) == ALL_BAD
    assert set(traffic.TRIGGERS) == set(ALL_BAD)


def test_history_has_ordinary_commits_then_each_bad_change_as_its_own_commit(broken: Any) -> None:
    log = git(broken.clone, "log", "--reverse", "--format=%an|%s").splitlines()
    assert [line.split("|")[1] for line in log[:3]] == [message for message, _ in setup_repo.HISTORY]
    assert len(log) == 3 + len(ALL_BAD)
    assert all(line.split("|")[0] not in ("Shop Developer", "") for line in log[3:]), "bad changes keep their authors"
    assert list(broken.bad_commits) == list(ALL_BAD)
    assert git(broken.clone, "remote", "get-url", "origin") == str(broken.forge)
    heads = git(broken.forge, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads").splitlines()
    assert sorted(heads) == sorted([f"main {broken.bad_commits[ALL_BAD[-1]]}", f"staging {broken.bad_commits[ALL_BAD[-1]]}"])
    assert not any((broken.clone / name).exists() for name in setup_repo.NOT_IN_REPO)


def test_rendered_medic_toml_is_a_valid_target(healthy: Any) -> None:
    target = load_target(healthy.medic_toml)
    assert target.repo_path() == healthy.clone
    assert target.forge == {"kind": "local", "remote": str(healthy.forge)}
    assert target.deployer["kind"] == "command"
    production = target.deployer["production"]
    assert production["port"] == healthy.ports.web_production
    assert "{checkout}" in production["run"] and "{port}" in production["run"] and "--web next" in production["run"]
    assert production["build"] == f"python {{checkout}}/scripts/build.py --cache-dir {healthy.workdir / 'builds'}"
    assert production["env"] == {"SHOP_WEB_SENTRY_DSN": "", "SHOP_API_SENTRY_DSN": ""}  # no ingest given: no Sentry
    assert {s["kind"] for s in target.sources} == {"logfile", "healthcheck", "sentry_ingest"}
    assert target.source_map_paths() == (healthy.workdir / "deployments" / "checkouts",)
    assert target.llm == {"provider": "playbook"}
    for protected in (
        "web/src/app/api/billing/route.ts",
        "supabase/migrations/001_init.sql",
        ".env.example",
        "vercel.json",
        ".github/workflows/ci.yml",
    ):
        assert (healthy.clone / protected).is_file(), protected


@pytest.mark.slow
def test_every_service_accepts_its_section_of_the_rendered_target(healthy: Any) -> None:
    from medic_contracts import section
    from medic_forge import build_forge
    from medic_implementer.app import LlmSection
    from medic_releaser.config import load_releaser_target
    from medic_watcher.config import SourcesSection

    target = load_target(healthy.medic_toml)
    releaser = load_releaser_target(target)
    assert releaser.deployer.production is not None and releaser.deployer.production.run
    sources = section(SourcesSection, {"sources": list(target.sources)}, name="sources").sources
    assert [s.kind for s in sources] == ["logfile", "logfile", "sentry_ingest", "sentry_ingest", "healthcheck"]
    assert section(LlmSection, target.llm, name="llm")
    assert build_forge(target.forge, base_dir=target.base_dir).name


def test_suites_pass_even_with_every_bad_change(broken: Any, tool_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "scripts/test.sh"], cwd=broken.clone, env=tool_env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "# fail 0" in result.stdout and " passed" in result.stdout


@pytest.mark.slow
def test_web_typechecks(healthy: Any, node_tools: Path, tool_env: dict[str, str]) -> None:
    types = node_tools.parent / "@types"
    result = subprocess.run(
        [str(node_tools / "tsc"), "-p", "web", "--typeRoots", str(types), "--types", "node"],
        cwd=healthy.clone,
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class Stage:
    """One running stage (web + api via scripts/serve.py) on the shop's production ports."""

    def __init__(self, shop: Any, env: dict[str, str]) -> None:
        self.shop = shop
        self.web = f"http://127.0.0.1:{shop.ports.web_production}"
        self.api = f"http://127.0.0.1:{shop.ports.api_production}"
        argv = [
            sys.executable,
            "scripts/serve.py",
            "--stage",
            "production",
            "--port",
            str(shop.ports.web_production),
            "--api-port",
            str(shop.ports.api_production),
            "--log-dir",
            str(shop.log_dir),
        ]
        self.process = subprocess.Popen(
            argv,
            cwd=shop.clone,
            env={**env, "SHOP_DB_LATENCY_MS": "2"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_healthy(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"serve.py exited {self.process.returncode}: {self.process.stderr.read() if self.process.stderr else ''}"
                )
            try:
                if all(httpx.get(f"{base}/health", timeout=1).status_code == 200 for base in (self.web, self.api)):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("stage did not become healthy")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self, service: str) -> list[dict[str, Any]]:
        path = self.shop.log_dir / f"{service}-production.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def stages(healthy: Any, broken: Any, tool_env: dict[str, str]) -> Iterator[tuple[Stage, Stage]]:
    pair = (Stage(healthy, tool_env), Stage(broken, tool_env))
    try:
        for stage in pair:
            stage.wait_healthy()
        yield pair
    finally:
        for stage in pair:
            stage.stop()


@pytest.mark.slow
def test_traffic_exposes_every_bad_change_in_logs_and_latency(stages: tuple[Stage, Stage]) -> None:
    good, bad = stages
    runs = {}
    for stage in stages:
        runs[stage] = traffic.drive(web=stage.web, api=stage.api, requests=50, triggers=list(ALL_BAD), trigger_every=1, users=6)
    statuses = lambda run: {s for r in run["routes"].values() for s in r["statuses"]}  # noqa: E731
    assert not any(s.startswith("5") for s in statuses(runs[good])), runs[good]
    assert "500" in statuses(runs[bad])

    web_errors = [line for line in bad.log("web") if line["level"] == "error"]
    api_errors = [line for line in bad.log("api") if line["level"] == "error"]
    assert {line["route"] for line in web_errors} == {"/api/practices/:id", "/api/orders"}
    assert {line["route"] for line in api_errors} == {
        "/practices/{practice_id}/stats",
        "/patients/{patient_id}/appointments/next",
    }
    practice = next(line for line in web_errors if line["route"] == "/api/practices/:id")
    assert practice["error"]["type"] == "TypeError" and "null" in practice["error"]["message"]
    assert "web/src/app/api/practices/[id]/route.ts:" in practice["error"]["stack"]
    assert practice["commit"] == bad.shop.bad_commits[ALL_BAD[-1]] and practice["user_id"].startswith("usr_")
    types = {line["error"]["type"] for line in api_errors}
    assert types == {"ZeroDivisionError", "IndexError"}
    assert all(line["error"]["stack"].startswith("Traceback (most recent call last):") for line in api_errors)
    assert not [line for line in good.log("web") + good.log("api") if line["level"] == "error"]

    search = "web GET /api/search"
    assert runs[bad]["routes"][search]["p50_ms"] > 3 * runs[good]["routes"][search]["p50_ms"]
    metrics = httpx.get(f"{bad.web}/metrics").text
    assert 'http_requests_total{route="/api/practices/:id",method="GET",status="500"}' in metrics


def test_the_target_renders_the_ingest_dsns_and_a_tsx_deployment_without_a_build(tmp_path: Path) -> None:
    ports = setup_repo.ShopPorts(41001, 41002, 41003, 41004)
    template = (SHOP / "medic.toml").read_text()
    ingest = setup_repo.SentryIngest(url="http://127.0.0.1:8081", key="k3y")
    rendered = setup_repo.render_target(template, workdir=tmp_path, log_dir=tmp_path, ports=ports, web="tsx", sentry=ingest)
    (tmp_path / "medic.toml").write_text(rendered)
    target = load_target(tmp_path / "medic.toml")
    production = target.deployer["production"]
    assert "build" not in production and "--web tsx" in production["run"]
    assert production["env"] == {
        "SHOP_WEB_SENTRY_DSN": "http://k3y@127.0.0.1:8081/1",
        "SHOP_API_SENTRY_DSN": "http://k3y@127.0.0.1:8081/2",
    }
    assert "env" not in target.deployer["staging"]  # staging reports nowhere: the watcher watches production


def test_unknown_trigger_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown trigger"):
        traffic.drive(web="http://127.0.0.1:9", api="http://127.0.0.1:9", requests=1, triggers=["999-nope"])


def test_materialise_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        setup_repo.materialise_shop(tmp_path)
    with pytest.raises(ValueError, match="unknown bad change"):
        setup_repo.materialise_shop(tmp_path / "new", bad_changes=["999-nope"])
    assert os.listdir(tmp_path) == ["keep.txt"] or sorted(os.listdir(tmp_path)) == ["keep.txt", "new"]
