"""Scale proof on one machine: three investigator processes in one consumer group share a burst of issues.

Each instance is its own process with its own store, as separate pods would be. The burst is spread
over the topic's partitions by issue_id; every issue must be diagnosed exactly once, and the work must
be split across the instances.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from medic_contracts import (
    DiagnosisReady,
    TopicName,
    TopicRegistry,
)
from medic_runtime.kafka_admin import declare_topics
from medic_testing.investigator.buggy_target import buggy_target, issue_detected
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

from .conftest import publish, read_events

pytestmark = [pytest.mark.kafka, pytest.mark.e2e, pytest.mark.slow]

INSTANCES = 3
BURST = 30


def test_three_investigators_in_one_group_split_a_burst_with_nothing_lost_or_done_twice(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    toml, commit, trace = buggy_target(tmp_path)
    topics = TopicRegistry(topic_prefix)
    asyncio.run(declare_topics(kafka_bootstrap, topics.partitions()))
    env = test_env(kafka_bootstrap, topic_prefix, tmp_path, MEDIC_TARGETS=str(toml))
    procs = [
        ServiceProcess.console_script(
            f"investigator-{i}",
            "medic-investigator",
            # its own store and checkouts, as a separate pod would have
            env={**env, "MEDIC_DATA_DIR": str(tmp_path / f"inv-{i}"), "MEDIC_WORKDIR": str(tmp_path / f"inv-{i}" / "work")},
            log_dir=tmp_path,
        )
        for i in range(INSTANCES)
    ]
    try:
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.wait_healthy(timeout=120)
        asyncio.run(asyncio.sleep(3.0))  # the group settles: each instance owns its share of the partitions
        burst = [issue_detected(n, trace, commit) for n in range(BURST)]
        asyncio.run(publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), list(burst)))
        diagnoses = asyncio.run(
            read_events(
                kafka_bootstrap,
                topics.name(TopicName.DIAGNOSES_READY),
                until=lambda events: len({e.issue_id for e in events}) >= BURST,
                timeout=180,
            )
        )
        # Read the whole topic again for a few seconds more: a duplicate would show up here.
        diagnoses = asyncio.run(
            read_events(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), until=lambda _: False, timeout=5.0)
        )
    finally:
        for proc in procs:
            proc.stop()
    assert all(isinstance(d, DiagnosisReady) for d in diagnoses)
    per_issue = Counter(d.issue_id for d in diagnoses)
    assert set(per_issue) == {i.issue_id for i in burst}, "an issue was lost"
    assert max(per_issue.values()) == 1, f"done twice: {[k for k, v in per_issue.items() if v > 1]}"
    per_instance = Counter(d.producer.instance for d in diagnoses)
    assert len(per_instance) == INSTANCES, f"the work was not split across all instances: {dict(per_instance)}"
    assert all(d.affected_file == "app/routes.py" for d in diagnoses)
