from __future__ import annotations

from medic_contracts import ActionRecorded, ApprovalRequested, ControlCommand, IssueDetected, TopicName, TopicRegistry


def test_topics_are_prefixed_and_events_map_to_their_topic() -> None:
    reg = TopicRegistry(prefix="acme.")
    assert reg.name(TopicName.ISSUES_DETECTED) == "acme.issues.detected"
    assert reg.for_event(IssueDetected) == "acme.issues.detected"
    assert reg.for_event(ActionRecorded) == reg.for_event(ApprovalRequested) == "acme.actions"
    assert reg.for_event(ControlCommand) == "acme.control"


def test_every_topic_has_partitions_and_control_is_one_partition_broadcast() -> None:
    reg = TopicRegistry()
    parts = reg.partitions()
    assert parts["medic.control"] == 1
    assert reg.spec(TopicName.CONTROL).broadcast
    assert all(n >= 1 for n in parts.values())
    assert len(parts) == len(TopicName)
