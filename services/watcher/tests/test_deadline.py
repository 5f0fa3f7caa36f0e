"""Each issue carries the deadline its severity's SLA sets (from the configuration control-api serves)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medic_contracts import DetectionReason, IssueType, MedicConfig, Producer, Severity, SeveritySla
from medic_watcher.domain.tracker import IssueState, Publication, to_issue_detected

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
STATE = IssueState(issue_id="iss_1", target="shop", service="web", fingerprint="fp", issue_type=IssueType.API_ERROR,
                   title="TypeError", first_seen=NOW, last_seen=NOW)  # fmt: skip


def detected(severity: Severity, config: MedicConfig) -> datetime | None:
    publication = Publication(reason=DetectionReason.NEW, severity=severity, previous=None, rule="test")
    event = to_issue_detected(STATE, publication, producer=Producer(service="watcher", instance="t"), config=config, now=NOW)
    return event.deadline


@pytest.mark.parametrize(
    ("severity", "minutes"), [(Severity.P0, 15), (Severity.P1, 30), (Severity.P2, 60), (Severity.P3, 24 * 60)]
)
def test_the_deadline_is_detection_time_plus_the_default_sla(severity: Severity, minutes: int) -> None:
    assert detected(severity, MedicConfig()) == NOW + timedelta(minutes=minutes)


def test_p4_has_no_deadline_and_a_configured_sla_wins() -> None:
    assert detected(Severity.P4, MedicConfig()) is None
    config = MedicConfig(sla=SeveritySla(p2_minutes=90, p4_minutes=7 * 24 * 60))
    assert detected(Severity.P2, config) == NOW + timedelta(minutes=90)
    assert detected(Severity.P4, config) == NOW + timedelta(days=7)
