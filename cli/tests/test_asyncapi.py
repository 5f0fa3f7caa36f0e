"""Every service's AsyncAPI 3.0 document is generated from its built runtime, committed, valid, and
describes the contract models on the right topics in the right consumer groups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from medic.asyncapi import SERVICES, render, service_documents
from medic.main import main
from medic_contracts import EVENT_MODELS, Envelope
from medic_contracts.schema import event_schema

SNAPSHOTS = Path(__file__).resolve().parents[2] / "libs" / "contracts" / "asyncapi"
OFFICIAL_SCHEMA = Path(__file__).resolve().parent / "data" / "asyncapi-3.0.0.schema.json"
MODELS: dict[str, type[Envelope]] = {m.__name__: m for m in EVENT_MODELS}

#: What each service consumes (group, topic, events) and publishes (topic, events), written out by hand.
#: Every service records actions (medic.actions) and dead-letters poison messages (medic.dlq).
EXPECTED: dict[str, dict[str, set[tuple[str, ...]]]] = {
    "watcher": {
        "receive": {("medic.watcher", "medic.deployments.result", "DeploymentResult")},
        "send": {("medic.issues.detected", "IssueDetected"), ("medic.actions", "ActionRecorded"), ("medic.dlq", "DeadLetter")},
    },
    "investigator": {
        "receive": {
            ("medic.investigator", "medic.issues.detected", "IssueDetected"),
            ("medic.investigator", "medic.deployments.result", "DeploymentResult"),
        },
        "send": {
            ("medic.diagnoses.ready", "DiagnosisReady"),
            ("medic.actions", "ActionRecorded", "ApprovalRequested"),
            ("medic.dlq", "DeadLetter"),
        },
    },
    "implementer": {
        "receive": {
            ("medic.implementer", "medic.diagnoses.ready", "DiagnosisReady"),
            ("medic.implementer", "medic.deployments.result", "DeploymentResult"),
        },
        "send": {
            ("medic.fixes.committed", "FixCommitted"),
            ("medic.actions", "ActionRecorded", "ApprovalRequested"),
            ("medic.dlq", "DeadLetter"),
        },
    },
    "releaser": {
        "receive": {
            ("medic.releaser", "medic.fixes.committed", "FixCommitted"),
            ("medic.releaser", "medic.issues.detected", "IssueDetected"),
        },
        "send": {
            ("medic.deployments.result", "DeploymentResult"),
            ("medic.actions", "ActionRecorded", "ApprovalRequested"),
            ("medic.dlq", "DeadLetter"),
        },
    },
    "control-api": {
        "receive": {
            ("medic.control-api.projector", "medic.issues.detected", "IssueDetected"),
            ("medic.control-api.projector", "medic.diagnoses.ready", "DiagnosisReady"),
            ("medic.control-api.projector", "medic.fixes.committed", "FixCommitted"),
            ("medic.control-api.projector", "medic.deployments.result", "DeploymentResult"),
            ("medic.control-api.projector", "medic.actions", "ActionRecorded", "ApprovalRequested"),
            ("medic.control-api.projector", "medic.control", "ControlCommand"),
            ("medic.control-api.projector", "medic.dlq", "DeadLetter"),
        },
        "send": {("medic.control", "ControlCommand"), ("medic.actions", "ActionRecorded"), ("medic.dlq", "DeadLetter")},
    },
}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    """Each service's document, generated once for the module (building five runtimes takes seconds)."""
    return service_documents()


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (JSON pointer, percent-escapes and ``~1`` undone) to its target."""
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _payload_models(doc: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """The component schema names an operation's messages carry (one, or the options of an ``anyOf``)."""
    names: list[str] = []
    for ref in operation["messages"]:
        payload = _resolve(doc, ref)["payload"]
        options = _resolve(doc, payload).get("anyOf", [payload])
        names.extend(option["$ref"].rsplit("/", 1)[1] for option in options)
    return names


def _as_components(schema: Any) -> Any:
    """A pydantic JSON Schema with its ``$defs`` references pointing at AsyncAPI components instead."""
    if isinstance(schema, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else _as_components(v))
            for k, v in schema.items()
            if k != "$defs"
        }
    if isinstance(schema, list):
        return [_as_components(v) for v in schema]
    return schema


def test_committed_documents_are_what_the_services_generate(documents: dict[str, dict[str, Any]]) -> None:
    assert sorted(p.name for p in SNAPSHOTS.glob("*.json")) == sorted(f"{s}.asyncapi.json" for s in SERVICES)
    for service, doc in documents.items():
        committed = (SNAPSHOTS / f"{service}.asyncapi.json").read_text(encoding="utf-8")
        assert render(doc) == committed, (
            f"{service}'s AsyncAPI document changed: review it and run `medic contracts asyncapi {SNAPSHOTS}`"
        )


@pytest.mark.parametrize("service", SERVICES)
def test_document_is_asyncapi_3_and_every_payload_pins_its_event_type(documents: dict[str, dict[str, Any]], service: str) -> None:
    doc = documents[service]
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] == f"medic-{service}"
    assert doc["channels"] and doc["operations"] and doc["components"]["messages"] and doc["components"]["schemas"]
    for key, operation in doc["operations"].items():
        assert operation["action"] in {"send", "receive"}
        channel = _resolve(doc, operation["channel"])
        assert channel is doc["channels"][key]
        models = _payload_models(doc, operation)
        assert models, f"{key} carries no message"
        for name in models:
            event_type = doc["components"]["schemas"][name]["properties"]["event_type"]
            assert event_type["const"] == MODELS[name].model_fields["event_type"].default
    jsonschema.Draft7Validator(json.loads(OFFICIAL_SCHEMA.read_text(encoding="utf-8"))).validate(doc)


@pytest.mark.parametrize("service", SERVICES)
def test_payload_schemas_are_the_contracts_json_schema(documents: dict[str, dict[str, Any]], service: str) -> None:
    doc = documents[service]
    schemas = doc["components"]["schemas"]
    used = {name for op in doc["operations"].values() for name in _payload_models(doc, op)}
    for name in used:
        contract = event_schema(MODELS[name])
        assert schemas[name] == _as_components(contract), f"{name}'s payload differs from its contract schema"
        for def_name, definition in contract.get("$defs", {}).items():
            assert schemas[def_name] == _as_components(definition), f"{def_name} (used by {name}) differs"


@pytest.mark.parametrize("service", SERVICES)
def test_document_names_each_consumed_topic_with_its_group_and_each_published_topic(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    doc = documents[service]
    receives: set[tuple[str, ...]] = set()
    sends: set[tuple[str, ...]] = set()
    control_groups: list[dict[str, Any]] = []
    for operation in doc["operations"].values():
        address = _resolve(doc, operation["channel"])["address"]
        models = tuple(_payload_models(doc, operation))
        if operation["action"] == "send":
            sends.add((address, *models))
            continue
        group = operation["bindings"]["kafka"]["groupId"]
        if "pattern" in group:
            control_groups.append(group)
            assert (address, models) == ("medic.control", ("ControlCommand",))
        else:
            receives.add((group["enum"][0], address, *models))
    assert receives == EXPECTED[service]["receive"]
    assert sends == EXPECTED[service]["send"]
    # The control plane: every instance in a group of its own, named by the service's prefix.
    assert [g["pattern"] for g in control_groups] == [f"^medic\\.{service}\\..+$"]


def test_contracts_asyncapi_command_writes_one_document_per_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "asyncapi", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == sorted(f"{s}.asyncapi.json" for s in SERVICES)
    for service in SERVICES:
        written = json.loads((tmp_path / "out" / f"{service}.asyncapi.json").read_text(encoding="utf-8"))
        assert written["info"]["title"] == f"medic-{service}"
        assert written == json.loads((SNAPSHOTS / f"{service}.asyncapi.json").read_text(encoding="utf-8"))
