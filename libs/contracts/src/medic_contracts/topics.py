"""The topic registry: every topic Medic uses, its partitions, and the events it carries.

Names are ``<prefix><name>`` with a configurable prefix (default ``medic.``). Every event is keyed
by its ``issue_id`` so one issue's events stay ordered on one partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .events import (
    ActionRecorded,
    ApprovalRequested,
    ControlCommand,
    DeadLetter,
    DeploymentResult,
    DiagnosisReady,
    Envelope,
    FixCommitted,
    IssueDetected,
)

__all__ = ["DEFAULT_PREFIX", "TopicName", "TopicRegistry", "TopicSpec"]

DEFAULT_PREFIX = "medic."


class TopicName(StrEnum):
    """Logical topic names, without the prefix."""

    ISSUES_DETECTED = "issues.detected"
    DIAGNOSES_READY = "diagnoses.ready"
    FIXES_COMMITTED = "fixes.committed"
    DEPLOYMENTS_RESULT = "deployments.result"
    ACTIONS = "actions"
    CONTROL = "control"
    DLQ = "dlq"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: its logical name, partition count and the events it carries."""

    name: TopicName
    partitions: int
    events: tuple[type[Envelope], ...]
    description: str
    broadcast: bool = False  # every instance reads it with its own group (medic.control)


_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(TopicName.ISSUES_DETECTED, 6, (IssueDetected,), "watcher → investigator, control-api"),
    TopicSpec(TopicName.DIAGNOSES_READY, 6, (DiagnosisReady,), "investigator → implementer, control-api"),
    TopicSpec(TopicName.FIXES_COMMITTED, 6, (FixCommitted,), "implementer → releaser, control-api"),
    TopicSpec(TopicName.DEPLOYMENTS_RESULT, 6, (DeploymentResult,), "releaser → control-api, watcher"),
    TopicSpec(TopicName.ACTIONS, 6, (ActionRecorded, ApprovalRequested), "every service → control-api (audit)"),
    TopicSpec(TopicName.CONTROL, 1, (ControlCommand,), "control-api → every instance", broadcast=True),
    TopicSpec(TopicName.DLQ, 3, (DeadLetter,), "runtime → control-api (poison messages)"),
)


class TopicRegistry:
    """Maps logical topics and event types to prefixed topic names."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix
        self._by_event: dict[type[Envelope], TopicSpec] = {}
        for spec in _SPECS:
            for model in spec.events:
                self._by_event[model] = spec

    def name(self, topic: TopicName) -> str:
        """The full topic name for a logical topic."""
        return f"{self.prefix}{topic.value}"

    def spec(self, topic: TopicName) -> TopicSpec:
        """The spec of a logical topic."""
        return next(s for s in _SPECS if s.name is topic)

    def specs(self) -> tuple[TopicSpec, ...]:
        """Every topic spec."""
        return _SPECS

    def for_event(self, event: Envelope | type[Envelope]) -> str:
        """The full topic name an event (or event type) is published on."""
        model = event if isinstance(event, type) else type(event)
        return self.name(self._by_event[model].name)

    def partitions(self) -> dict[str, int]:
        """Full topic name → partition count, for declaring topics."""
        return {self.name(s.name): s.partitions for s in _SPECS}
