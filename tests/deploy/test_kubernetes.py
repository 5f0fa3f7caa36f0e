"""deploy/k8s, checked offline: `kubectl kustomize` renders each overlay; core kinds are validated strictly with
kubernetes-validate, KEDA and Strimzi resources against their vendored CRD schemas.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from medic_contracts import TopicRegistry, load_target
from medic_runtime.store import ServiceStore, work_items

from .helpers import (
    AGENTS,
    CRD_KINDS,
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    PROD_EXTERNAL_SECRETS,
    SCALED_AGENTS,
    SERVICES,
    by_kind,
    check_service_env,
    component,
    container_env,
    crd_validators,
    deployments,
    dockerfile_facts,
    validate_target_sections,
)


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
