"""Event models: frozen, closed, documented, round-trip through JSON, forward compatible by minor version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from medic_contracts import (
    ControlCommand,
    DiagnosisReady,
    FixStrategy,
    Frequency,
    IssueDetected,
    IssueType,
    Producer,
    Severity,
    event_adapter,
    events,
)

PRODUCER = Producer(service="watcher", instance="test-1")
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def issue(**over: object) -> IssueDetected:
    fields: dict[str, object] = dict(  # noqa: C408 - keyword style reads like the event
        producer=PRODUCER,
        issue_id="iss_1",
        target="shop",
        service="web",
        severity=Severity.P1,
        issue_type=IssueType.API_ERROR,
        title="POST /api/campaigns/launch returning 500",
        message="boom",
        fingerprint="fp1",
        frequency=Frequency(count=15, window_seconds=300, total=15),
        affected_users=3,
        first_seen=NOW - timedelta(minutes=5),
        last_seen=NOW,
        source="logfile",
    )
    fields.update(over)
    return IssueDetected(**fields)  # type: ignore[arg-type]


def _contract_models() -> list[type[BaseModel]]:
    return [
        m for m in vars(events).values() if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == events.__name__
    ]


def test_every_field_of_every_model_has_a_description_and_a_valid_example() -> None:
    for model in _contract_models():
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert field.examples, f"{model.__name__}.{name} has no example"
            adapter: TypeAdapter[object] = TypeAdapter(field.annotation)
            for example in field.examples:
                adapter.validate_python(example)  # raises when an example does not fit its field


def test_events_are_frozen_and_refuse_unknown_fields() -> None:
    event = issue()
    with pytest.raises(ValidationError):
        event.severity = Severity.P0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        issue(unexpected="x")


def test_event_round_trips_through_json_by_discriminator() -> None:
    event = issue()
    decoded = event_adapter().validate_json(event.model_dump_json())
    assert decoded == event
    assert isinstance(decoded, IssueDetected)


def test_follow_up_keeps_issue_and_correlation_and_sets_causation() -> None:
    parent = issue()
    diag = parent.follow_up(
        DiagnosisReady,
        producer=Producer(service="investigator", instance="i-1"),
        issue=parent.brief(),
        root_cause="x is None",
        affected_file="app.py",
        fix_strategy=FixStrategy.NULL_GUARD,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=2),
        provider="playbook",
    )
    assert diag.issue_id == parent.issue_id
    assert diag.correlation_id == parent.correlation_id
    assert diag.causation_id == parent.event_id
    assert diag.event_id != parent.event_id
    assert diag.key == b"iss_1"


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        issue(first_seen=datetime(2026, 1, 1))


def test_newer_minor_version_is_read_by_dropping_unknown_fields() -> None:
    data = json.loads(issue().model_dump_json())
    data["schema_version"] = "1.7"
    data["added_in_1_7"] = {"anything": True}
    data["frequency"]["added_nested"] = 1
    decoded = event_adapter().validate_python(data)
    assert isinstance(decoded, IssueDetected)
    assert decoded.schema_version == "1.7"


def test_unknown_fields_at_the_same_version_are_refused() -> None:
    data = json.loads(issue().model_dump_json())
    data["added"] = 1
    with pytest.raises(ValidationError):
        event_adapter().validate_python(data)


def test_newer_major_version_is_refused() -> None:
    data = json.loads(ControlCommand(producer=PRODUCER, command="pause", actor="a").model_dump_json())
    data["schema_version"] = "2.0"
    with pytest.raises(ValidationError, match="not readable"):
        event_adapter().validate_python(data)


def test_severity_rank_orders_p0_first() -> None:
    assert sorted(Severity, key=lambda s: s.rank) == [Severity.P0, Severity.P1, Severity.P2, Severity.P3, Severity.P4]
