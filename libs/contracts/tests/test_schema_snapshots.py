"""The committed JSON Schema snapshots guard every event against unversioned or breaking changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar, Literal

import pytest
from pydantic import Field

from medic_contracts import EVENT_MODELS, ControlCommand, Envelope
from medic_contracts.schema import compatibility_problems, event_schema, export_schemas, snapshot_for, structural

SNAPSHOTS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_model_matches_its_snapshot_or_is_a_versioned_compatible_change(model: type[Envelope]) -> None:
    snap_path = SNAPSHOTS / f"{snapshot_for(model)['event_type']}.json"
    assert snap_path.exists(), f"no snapshot for {model.__name__}: run `medic contracts export {SNAPSHOTS}`"
    snapshot = json.loads(snap_path.read_text())
    current = snapshot_for(model)
    if structural(current["schema"]) == structural(snapshot["schema"]):
        assert current["schema_version"] == snapshot["schema_version"], "version changed without a schema change"
        return
    problems = compatibility_problems(snapshot["schema"], current["schema"])
    assert not problems, (
        f"{model.__name__} changed incompatibly ({'; '.join(problems)}): a breaking change is a new model on a new topic"
    )
    assert current["schema_version"] != snapshot["schema_version"], (
        f"{model.__name__} changed without a schema_version bump (snapshot {snapshot['schema_version']})"
    )
    pytest.fail(f"{model.__name__} {current['schema_version']} is compatible: refresh the snapshot with `medic contracts export`")


class _Removed(Envelope):
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["control_command"] = "control_command"
    actor: str = Field(description="who")


def test_removing_fields_is_reported_as_breaking() -> None:
    problems = compatibility_problems(event_schema(ControlCommand), event_schema(_Removed))
    assert any("command: field removed" in p for p in problems)


class _AddedRequired(ControlCommand):
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    ticket: str = Field(description="a new required field")


class _AddedOptional(ControlCommand):
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    ticket: str | None = Field(default=None, description="a new optional field")


class _TypeChanged(Envelope):
    SCHEMA_VERSION: ClassVar[str] = "1.1"
    event_type: Literal["control_command"] = "control_command"
    command: int = Field(description="now a number")
    actor: str = Field(description="who")


def test_new_required_field_is_breaking_and_new_optional_field_is_not() -> None:
    assert any(
        "ticket: new required field" in p
        for p in compatibility_problems(event_schema(ControlCommand), event_schema(_AddedRequired))
    )
    assert compatibility_problems(event_schema(ControlCommand), event_schema(_AddedOptional)) == []


def test_changed_type_is_breaking() -> None:
    problems = compatibility_problems(event_schema(ControlCommand), event_schema(_TypeChanged))
    assert any(p.startswith("command: type changed") for p in problems)


def test_export_writes_one_schema_per_event(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    names = {p.name for p in written}
    assert {f"{snapshot_for(m)['event_type']}.json" for m in EVENT_MODELS} <= names
    data = json.loads((tmp_path / "issue_detected.json").read_text())
    assert data["schema"]["properties"]["severity"]
