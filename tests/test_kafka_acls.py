"""deploy/k8s/overlays/strimzi-scram: Kafka TLS + SCRAM, one KafkaUser per service, ACLs exactly what each uses.

The expected ACLs are derived from each service's AsyncAPI document (libs/contracts/asyncapi, generated from the
services' own subscriber and publisher declarations and snapshot-tested against them): Read on every channel it
receives, Write on every channel it sends, Read on the consumer groups its bindings name. Rendered with the real
`kubectl kustomize`; each service's environment is loaded through the real settings class.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from medic_runtime import ServiceSettings, load_settings

ROOT = Path(__file__).resolve().parents[1]
OVERLAY = ROOT / "deploy" / "k8s" / "overlays" / "strimzi-scram"
ASYNCAPI = ROOT / "libs" / "contracts" / "asyncapi"
SERVICES = ("control-api", "watcher", "investigator", "implementer", "releaser")
SCALED = ("investigator", "implementer", "releaser")

Acl = tuple[str, str, str, str]  # resource type, name, pattern type, operation


def render(path: Path) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.fail("kubectl is not installed (it ships with the machine image; kustomize is built in)")
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return render(OVERLAY)


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def expected_acls(service: str) -> set[Acl]:
    """What the service's AsyncAPI document says it reads, writes and joins, as Kafka ACLs."""
    doc = json.loads((ASYNCAPI / f"{service}.asyncapi.json").read_text())
    address = {name: channel["address"] for name, channel in doc["channels"].items()}
    acls: set[Acl] = {("topic", "medic.", "prefix", "Describe")}  # start-up checks every registry topic exists
    for operation in doc["operations"].values():
        topic = address[operation["channel"]["$ref"].rsplit("/", 1)[1]]
        acls.add(("topic", topic, "literal", "Read" if operation["action"] == "receive" else "Write"))
        group = operation.get("bindings", {}).get("kafka", {}).get("groupId")
        if group is None:
            continue
        for name in group.get("enum", []):
            acls.add(("group", name, "literal", "Read"))
        if "pattern" in group:  # ^medic\.watcher\..+$: one group per instance, under a prefix
            pattern = group["pattern"]
            assert pattern.startswith("^") and pattern.endswith(r"\..+$"), pattern
            acls.add(("group", pattern[1 : -len(r"\..+$")].replace("\\.", ".") + ".", "prefix", "Read"))
    return acls


def user_acls(user: dict[str, Any]) -> set[Acl]:
    found: set[Acl] = set()
    for acl in user["spec"]["authorization"]["acls"]:
        assert acl.get("host", "*") == "*" and acl.get("type", "allow") == "allow"
        resource = acl["resource"]
        for operation in acl["operations"]:
            found.add((resource["type"], resource["name"], resource.get("patternType", "literal"), operation))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_kafka_user_may_do_exactly_what_its_asyncapi_document_declares(
    docs: list[dict[str, Any]], service: str
) -> None:
    user = of_kind(docs, "KafkaUser")[f"medic-{service}"]
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == "medic"
    assert user["spec"]["authentication"]["type"] == "scram-sha-512" and user["spec"]["authorization"]["type"] == "simple"
    assert user_acls(user) == expected_acls(service)


def test_no_service_may_write_a_topic_another_service_owns(docs: list[dict[str, Any]]) -> None:
    writers: dict[str, set[str]] = {}
    for service in SERVICES:
        for kind, name, _, operation in user_acls(of_kind(docs, "KafkaUser")[f"medic-{service}"]):
            if kind == "topic" and operation == "Write":
                writers.setdefault(name, set()).add(service)
    assert writers["medic.issues.detected"] == {"watcher"} and writers["medic.diagnoses.ready"] == {"investigator"}
    assert writers["medic.fixes.committed"] == {"implementer"} and writers["medic.deployments.result"] == {"releaser"}
    assert writers["medic.control"] == {"control-api"}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_over_tls_with_scram_as_its_own_kafka_user(
    docs: list[dict[str, Any]], service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = of_kind(docs, "Deployment")[f"medic-{service}"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    config = next(c for n, c in of_kind(docs, "ConfigMap").items() if n.startswith("medic-env-"))["data"]
    merged = {**config, **env}
    assert merged["MEDIC_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and merged["MEDIC_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert merged["MEDIC_KAFKA_SASL_USERNAME"] == f"medic-{service}"  # the KafkaUser whose ACLs were checked above
    assert merged["MEDIC_KAFKA_BOOTSTRAP"] == "medic-kafka-bootstrap.kafka.svc:9093"

    # the password and CA files come from the User Operator's Secret of that user and from the cluster CA
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    files = {
        "MEDIC_KAFKA_SASL_PASSWORD_FILE": (f"medic-{service}", "password"),
        "MEDIC_KAFKA_SSL_CA_FILE": ("medic-kafka-cluster-ca", "ca.crt"),
    }
    for variable, (secret, key) in files.items():
        directory, name = merged[variable].rsplit("/", 1)
        volume = volumes[mounts[directory]]["secret"]
        assert volume["secretName"] == secret and {"key": key, "path": name} in volume["items"]

    # and the service's settings accept that environment (the files stand in for the mounted Secrets)
    password, ca = tmp_path / "password", tmp_path / "ca.crt"
    password.write_text("from-the-user-operator\n")
    key_file = str(tmp_path / "ca.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_file, "-out", str(ca),
                    "-days", "1", "-subj", "/CN=cluster-ca"], check=True, capture_output=True, timeout=60)  # fmt: skip
    for key, value in merged.items():
        if key.startswith("MEDIC_KAFKA_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("MEDIC_KAFKA_SASL_PASSWORD_FILE", str(password))
    monkeypatch.setenv("MEDIC_KAFKA_SSL_CA_FILE", str(ca))
    settings = load_settings(ServiceSettings)
    assert settings.kafka_sasl_secret() == "from-the-user-operator"


def test_the_kafka_cluster_offers_only_a_tls_scram_listener_and_keda_authenticates_to_it(docs: list[dict[str, Any]]) -> None:
    cluster = render(OVERLAY / "kafka")
    kafka = of_kind(cluster, "Kafka")["medic"]
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert (listener["port"], listener["tls"], listener["authentication"]["type"]) == (9093, True, "scram-sha-512")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    operators = kafka["spec"]["entityOperator"]
    assert operators["userOperator"]["watchedNamespace"] == operators["topicOperator"]["watchedNamespace"] == "medic"

    auth = of_kind(docs, "TriggerAuthentication")["medic-keda-kafka"]
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert refs["password"]["name"] == "medic-keda" and refs["ca"]["name"] == "medic-kafka-cluster-ca"
    sasl = of_kind(docs, "Secret")[refs["sasl"]["name"]]
    assert sasl["data"]  # sasl=scram_sha512, username=medic-keda, tls=enable (base64)
    keda_groups = set()
    for kind, name, pattern, operation in user_acls(of_kind(docs, "KafkaUser")["medic-keda"]):
        assert operation == "Describe"  # lag only: no Read, no Write
        if kind == "group":
            keda_groups.add((name, pattern))
    assert keda_groups == {(f"medic.{s}", "literal") for s in SCALED}
    for service in SCALED:
        (lag,) = [t for t in of_kind(docs, "ScaledObject")[f"medic-{service}"]["spec"]["triggers"] if t["type"] == "kafka"]
        assert lag["metadata"]["bootstrapServers"] == "medic-kafka-bootstrap.kafka.svc:9093"
        assert lag["authenticationRef"]["name"] == "medic-keda-kafka"
