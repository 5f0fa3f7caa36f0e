"""The seed design's example comes out exactly: POST /api/campaigns/launch returning 500 → P1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medic_contracts import DetectionReason, IssueType, MedicConfig, Producer, Severity
from medic_watcher.domain.normalize import Normaliser
from medic_watcher.domain.templates import TemplateMiner
from medic_watcher.domain.tracker import IssueState
from medic_watcher.job.detect import detect_observed

START = datetime(2026, 11, 27, 9, 25, tzinfo=UTC)
PRODUCER = Producer(service="watcher", instance="test")


def log_lines(n: int, *, users: int, start: datetime = START, span_s: int = 290) -> list[dict[str, object]]:
    return [
        {
            "ts": (start + timedelta(seconds=i * span_s // max(1, n - 1))).isoformat(),
            "level": "error",
            "msg": "request failed",
            "service": "web",
            "route": "/api/campaigns/launch",
            "path": "/api/campaigns/launch",
            "method": "POST",
            "status": 500,
            "duration_ms": 120,
            "user_id": f"user-{i % users}",
        }
        for i in range(n)
    ]


def detect(records: list[dict[str, object]], states: dict[str, IssueState]) -> list:  # type: ignore[type-arg]
    normaliser = Normaliser()
    observed = [normaliser.log_record(r, service="web", now=START) for r in records]
    _, published = detect_observed(
        observed, target="shop", states=states, config=MedicConfig(), miner=TemplateMiner(), producer=PRODUCER, now=START
    )
    return published


def test_fifteen_500s_in_five_minutes_from_three_users_is_one_p1_issue() -> None:
    published = detect(log_lines(15, users=3), {})
    assert len(published) == 1
    issue = published[0]
    assert issue.title == "POST /api/campaigns/launch returning 500"
    assert issue.severity is Severity.P1
    assert issue.issue_type is IssueType.API_ERROR
    assert issue.frequency.count == 15 and issue.frequency.window_seconds == 300
    assert issue.affected_users == 3
    assert issue.reason is DetectionReason.NEW
    assert issue.request is not None and issue.request.status == 500 and issue.request.method == "POST"
    assert issue.deadline == START + timedelta(minutes=MedicConfig().sla.p1_minutes or 0)


def test_a_repeat_poll_publishes_nothing_and_a_rise_publishes_once() -> None:
    states: dict[str, IssueState] = {}
    first = detect(log_lines(2, users=1), states)
    assert [i.severity for i in first] == [Severity.P3]
    assert detect(log_lines(1, users=1, start=START + timedelta(seconds=900)), states) == []
    risen = detect(log_lines(12, users=2, start=START + timedelta(seconds=1000), span_s=100), states)
    assert [(i.reason, i.severity, i.previous_severity) for i in risen] == [
        (DetectionReason.SEVERITY_RAISED, Severity.P1, Severity.P3)
    ]
    assert detect(log_lines(12, users=2, start=START + timedelta(seconds=1100), span_s=100), states) == []


def test_occurrence_after_a_promoted_fix_is_a_regression() -> None:
    from medic_watcher.domain.tracker import mark_fixed

    states: dict[str, IssueState] = {}
    detect(log_lines(15, users=3), states)
    (state,) = states.values()
    mark_fixed(state, at=START + timedelta(minutes=10), commit="abc1234")
    assert detect(log_lines(1, users=1, start=START + timedelta(minutes=5)), states) == []  # before the fix: no news
    again = detect(log_lines(1, users=1, start=START + timedelta(minutes=20)), states)
    assert [i.reason for i in again] == [DetectionReason.REGRESSED]
    assert again[0].tags["regressed_after_fix"] == "abc1234"
