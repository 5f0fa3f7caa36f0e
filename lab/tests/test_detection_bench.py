"""``medic bench detection``: the demo shop under normal traffic and three injected faults, watched by medic-watcher."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from medic_contracts import DetectionReason, Frequency, IssueDetected, IssueType, Producer, Severity
from medic_lab.detection import FAULT_KINDS, Fault, score


def _issue(title: str, at: float, *, metric: str | None = None, reason: DetectionReason = DetectionReason.NEW) -> IssueDetected:
    when = datetime.fromtimestamp(at, tz=UTC)
    tags = {"medic.anomaly": "true", "medic.metric": metric} if metric else {}
    return IssueDetected(
        producer=Producer(service="watcher", instance="test"), occurred_at=when, issue_id=f"iss_{abs(hash(title)) % 10**6}",
        target="shop", service="web", reason=reason, severity=Severity.P2,
        issue_type=IssueType.ANOMALY if metric else IssueType.API_ERROR, title=title, message=title, fingerprint="f" * 16,
        frequency=Frequency(count=1, window_seconds=300, total=1), first_seen=when, last_seen=when, tags=tags,
        source="logfile",
    )  # fmt: skip


def test_issues_are_scored_against_the_fault_that_was_live_and_the_rest_are_false_positives() -> None:
    faults = [
        Fault("bad_deploy", 0, injected=100, live=104, over=110, settled=130),
        Fault("latency_regression", 0, injected=200, live=204, over=210, settled=230),
        Fault("traffic_spike", 0, injected=300, live=300, over=306, settled=320),
    ]
    issues = [
        _issue("p95 latency regression on all routes", 50, metric="p95_latency"),  # before any fault: a false positive
        _issue("traffic drop on all routes", 102, metric="traffic_drop"),  # the deploy's restart gap: during a fault
        _issue("TypeError: Cannot read properties of null", 107),
        _issue("TypeError: Cannot read properties of null", 109, reason=DetectionReason.SEVERITY_RAISED),
        _issue("p95 latency regression on /api/search", 209, metric="p95_latency"),
    ]
    result = score(issues, faults)
    assert result["issues"] == 4 and result["issues_on_normal_traffic"] == 1
    assert result["false_positive_rate"] == 0.25
    assert result["seconds_to_detect"] == {"bad_deploy": 3.0, "latency_regression": 5.0}
    assert result["faults_detected"] == 2 and result["median_seconds_to_detect"] == 4.0
    assert result["during_faults"] == ["bad_deploy: P2 traffic drop on all routes"]
    assert result["severity_updates"] == 1


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.kafka
@pytest.mark.timeout(900)
def test_bench_detection_on_the_running_shop_finds_every_fault_and_raises_nothing_on_normal_traffic() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "medic", "bench", "detection", "--fast", "--json"],
        capture_output=True, text=True, check=True, timeout=840,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert result["requests"] == 7000
    assert [f["kind"] for f in result["schedule"]] == list(FAULT_KINDS)
    assert result["faults"] == len(FAULT_KINDS)
    # The shop really served the traffic, and the bad release really failed some of it.
    assert result["statuses"].get("200", 0) > 3000 and result["statuses"].get("500", 0) >= 1
    assert result["faults_detected"] == len(FAULT_KINDS), result["raised"]
    assert result["issues_on_normal_traffic"] == 0, result["false_positives"]
    assert result["false_positive_rate"] == 0.0
