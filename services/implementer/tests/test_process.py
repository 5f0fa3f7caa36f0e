"""A real implementer process killed right after its push: the next process publishes exactly one FixCommitted."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from medic_contracts import FixCommitted, MedicConfig, TopicName, TopicRegistry
from medic_testing.implementer import FixtureRepo, git, produce, pulls, python_diagnosis, read_events, set_config, write_target
from medic_testing.implementer.hooks import hold_first_push
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess

pytestmark = [pytest.mark.kafka, pytest.mark.e2e, pytest.mark.slow]


def test_killing_the_process_after_the_push_recovers_to_exactly_one_fix_committed(
    kafka_bootstrap: str, topic_prefix: str, python_repo: FixtureRepo, tmp_path: Path
) -> None:
    topics = TopicRegistry(topic_prefix)
    marker = tmp_path / "pushed"
    # The remote's post-receive hook runs after the branch ref is updated and holds the push open:
    # killing the process then is a crash after the push, before the PR and the event.
    hold_first_push(python_repo.remote, marker)
    env = test_env(
        kafka_bootstrap,
        topic_prefix,
        tmp_path / "data",
        MEDIC_TARGET_FILE=str(write_target(python_repo, tmp_path)),
        MEDIC_TOOL_PATHS=json.dumps([str(Path(sys.executable).parent)]),
        MEDIC_WORKSPACE_DIR=str(tmp_path / "worktrees"),
        MEDIC_FIX_LEASE_S="10",
    )
    asyncio.run(set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1)))
    diag = python_diagnosis(python_repo)

    first = ServiceProcess.console_script("implementer-1", "medic-implementer", env=env, log_dir=tmp_path)
    with first:
        first.wait_healthy(timeout=120)
        asyncio.run(produce(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), diag))
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert time.monotonic() < deadline, first.log_tail()
            time.sleep(0.2)
        first.kill()
    pushed = git(python_repo.remote, "rev-parse", "agent/fix-iss_practice")
    assert pulls(python_repo.remote) == []

    second = ServiceProcess.console_script("implementer-2", "medic-implementer", env=env, log_dir=tmp_path)
    with second:
        second.wait_healthy(timeout=120)
        fixes = asyncio.run(
            read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 1, timeout=240)
        )
        assert fixes, second.log_tail()
        time.sleep(3)
        fixes = asyncio.run(
            read_events(kafka_bootstrap, topics.name(TopicName.FIXES_COMMITTED), until=lambda e: len(e) >= 2, timeout=3)
        )
    assert len(fixes) == 1 and isinstance(fixes[0], FixCommitted)
    assert fixes[0].commit_sha == pushed
    assert git(python_repo.remote, "rev-list", "--count", f"{python_repo.bug_sha}..agent/fix-iss_practice") == "1"
    assert len(pulls(python_repo.remote)) == 1
