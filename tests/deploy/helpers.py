"""What the deploy tests share: where the manifests are, the services they run, and readers of the rendered documents
and of each service's settings.
"""

from __future__ import annotations

import base64
import copy
import importlib
import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from medic_runtime import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
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


def deployments(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """component -> Deployment of the five Medic services."""
    found = {component(d): d for d in docs if d["kind"] == "Deployment"}
    assert set(found) == set(SERVICES)
    return found


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
