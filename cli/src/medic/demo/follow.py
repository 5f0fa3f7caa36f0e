"""Following the loop on the broker: the demo issue's events become screen lines and stage timings."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer

from medic_contracts import (
    ActionRecorded,
    ActionStatus,
    ApprovalRequested,
    DeploymentOutcome,
    DeploymentResult,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueDetected,
    TopicName,
    TopicRegistry,
    event_adapter,
)

from .scenario import DemoResult
from .screen import Screen

__all__ = ["LoopFollower"]


class LoopFollower:
    """Reads every Medic topic and turns the events of the demo's issue into lines and timings."""

    def __init__(self, *, bootstrap: str, topics: TopicRegistry, screen: Screen, result: DemoResult, shipped_at: float) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self.screen = screen
        self.result = result
        self.shipped_at = shipped_at
        self.approvals: asyncio.Queue[ApprovalRequested] = asyncio.Queue()
        self.done = asyncio.Event()
        self.deployments: list[DeploymentResult] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._seen_stages: set[str] = set()

    def mark(self, stage: str) -> None:
        """Record when a stage was first reached (seconds since the bad change shipped)."""
        if stage not in self.result.stages:
            self.result.stages[stage] = round(time.monotonic() - self.shipped_at, 1)

    async def run(self) -> None:
        names = [
            self.topics.name(t)
            for t in (
                TopicName.ISSUES_DETECTED,
                TopicName.DIAGNOSES_READY,
                TopicName.FIXES_COMMITTED,
                TopicName.DEPLOYMENTS_RESULT,
                TopicName.ACTIONS,
            )
        ]
        consumer = AIOKafkaConsumer(
            *names,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=250)
                for records in batch.values():
                    for record in records:
                        try:
                            event = event_adapter().validate_json(record.value)
                        except ValueError:
                            continue
                        self.on_event(event)
        finally:
            await consumer.stop()

    def _ours(self, event: Envelope) -> bool:
        return self.result.issue_id is not None and event.issue_id == self.result.issue_id

    def on_event(self, event: Envelope) -> None:
        r, s = self.result, self.screen
        if isinstance(event, IssueDetected):
            if r.issue_id is None and "practices" in (event.title + event.message + str(event.request)):
                r.issue_id, r.severity, r.title = event.issue_id, event.severity.value, event.title
                self.mark("detected")
                s.line(
                    "ok",
                    "detected",
                    f"{event.severity.value} {event.issue_type.value} “{event.title}” — "
                    f"{event.frequency.count} in {event.frequency.window_seconds}s, {event.affected_users} users",
                    "watcher",
                )
            elif self._ours(event) and event.reason.value != "new":
                r.severity = event.severity.value
                s.line(
                    "info",
                    "updated",
                    f"{event.reason.value}: now {event.severity.value} — {event.frequency.count} in "
                    f"{event.frequency.window_seconds}s, {event.affected_users} users",
                    "watcher",
                )
        elif isinstance(event, DiagnosisReady) and self._ours(event):
            self.mark("diagnosed")
            r.root_cause, r.strategy = event.root_cause, event.fix_strategy.value
            where = (
                f"{event.affected_file}:{event.affected_lines.first}-{event.affected_lines.last}"
                if event.affected_lines
                else str(event.affected_file)
            )
            s.line(
                "ok",
                "diagnosed",
                f"{event.fix_strategy.value} at {where} (confidence {event.confidence:.2f}, "
                f"{event.provider}): {event.root_cause[:110]}",
                "investigator",
            )
        elif isinstance(event, FixCommitted) and self._ours(event):
            self.mark("fix_committed")
            r.branch, r.commit, r.diff, r.regression_test = event.branch, event.commit_sha, event.diff, event.regression_test
            r.strategy = event.strategy.value
            r.tests = (
                f"{event.tests.command}: {event.tests.outcome.value} ({event.tests.passed} passed, {event.tests.failed} failed)"
            )
            test = f", regression test {event.regression_test}" if event.regression_test else ""
            s.line(
                "ok",
                "fixed",
                f"{event.commit_sha[:10]} on {event.branch}{test}; tests {event.tests.outcome.value} "
                f"({event.tests.passed} passed); PR {event.pr_url or event.pr_number}",
                "implementer",
            )
        elif isinstance(event, ApprovalRequested) and self._ours(event):
            self.mark(f"approval_{event.kind.value}_{len(r.approvals) + 1}")
            s.line(
                "wait",
                "approval",
                f"{event.kind.value} waits for a human: {event.reason} (id {event.approval_id})",
                event.producer.service,
            )
            self.approvals.put_nowait(event)
        elif isinstance(event, DeploymentResult) and self._ours(event):
            self.deployments.append(event)
            key = f"{event.stage.value}_{event.outcome.value}"
            r.outcomes.append(key)
            self.mark(key)
            failed = [c.name for c in event.checks if not c.passed]
            mark = (
                "fail"
                if event.outcome in (DeploymentOutcome.ROLLED_BACK, DeploymentOutcome.FAILED)
                else ("wait" if event.outcome in (DeploymentOutcome.AWAITING_APPROVAL, DeploymentOutcome.BLOCKED) else "ok")
            )
            detail = f"{event.outcome.value}: {event.reason}"[:160] + (f" (failed: {', '.join(failed)})" if failed else "")
            s.line(mark, event.stage.value, detail, "releaser")
        elif isinstance(event, ActionRecorded) and self._ours(event):
            if event.action == "releaser.deploy" and event.status is ActionStatus.SUCCEEDED:
                stage = "staging" if "staging" in event.summary else "production"
                if f"deploy_{stage}" not in self._seen_stages:
                    self._seen_stages.add(f"deploy_{stage}")
                    self.mark(f"{stage}_deployed")
                    s.line("step", stage, f"deployed — {event.summary[:120]}; watching", "releaser")
            elif event.action == "releaser.notify" and event.status is ActionStatus.SUCCEEDED:
                self.mark("notified")
                s.line("ok", "notified", event.summary[:140], "releaser")
            elif event.status in (ActionStatus.FAILED, ActionStatus.REFUSED):
                s.line("fail", event.action, event.summary[:150], event.producer.service)
