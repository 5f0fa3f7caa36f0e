"""The events the benchmark posts and projects: one issue's run, from detection to production."""

from __future__ import annotations

from datetime import datetime, timedelta

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    FixStrategy,
    Frequency,
    IssueDetected,
    IssueType,
    Producer,
    Severity,
    TestOutcome,
    TestReport,
)

__all__ = ["sample_lifecycle"]

_SOURCE = Producer(service="bench", instance="bench-1")


def sample_lifecycle(issue_id: str, t0: datetime) -> list[Envelope]:
    """Six events of one issue's run: detected, investigating, diagnosed, fixed, staging and production promoted."""
    detected = IssueDetected(
        producer=_SOURCE,
        occurred_at=t0,
        issue_id=issue_id,
        target="shop",
        service="web",
        severity=Severity.P2,
        issue_type=IssueType.API_ERROR,
        title="TypeError: Cannot read properties of null (reading 'name')",
        message="TypeError: Cannot read properties of null (reading 'name')",
        fingerprint=issue_id[-16:],
        frequency=Frequency(count=5, window_seconds=300, total=5),
        affected_users=3,
        first_seen=t0,
        last_seen=t0,
        source="sentry",
    )
    brief = detected.brief()
    started = detected.follow_up(
        ActionRecorded, producer=_SOURCE, action="investigator.diagnose", status=ActionStatus.STARTED, summary="diagnosing"
    )
    diagnosis = detected.follow_up(
        DiagnosisReady,
        producer=_SOURCE,
        issue=brief,
        root_cause="null practice",
        affected_file="src/route.ts",
        fix_strategy=FixStrategy.NULL_GUARD,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=5),
        provider="playbook",
    )
    fix = diagnosis.follow_up(
        FixCommitted,
        producer=_SOURCE,
        issue=brief,
        repository="acme/shop",
        branch=f"agent/fix-{issue_id}",
        base_sha="a" * 40,
        commit_sha="f" * 40,
        files_changed=("src/route.ts",),
        diff="--- a/src/route.ts\n+++ b/src/route.ts\n+guard\n",
        diff_hash="sha256:" + "5" * 64,
        strategy=FixStrategy.NULL_GUARD,
        tests=TestReport(command="npm test", outcome=TestOutcome.PASSED, passed=42),
    )
    deployments = [
        fix.follow_up(
            DeploymentResult,
            producer=_SOURCE,
            issue=brief,
            run_id="run",
            stage=stage,
            outcome=DeploymentOutcome.PROMOTED,
            commit_sha="f" * 40,
            occurred_at=t0 + timedelta(minutes=minutes),
        )
        for stage, minutes in ((DeploymentStage.STAGING, 10), (DeploymentStage.PRODUCTION, 20))
    ]
    return [detected, started, diagnosis, fix, *deployments]
