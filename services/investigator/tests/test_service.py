"""The investigator process on a real broker: IssueDetected in, DiagnosisReady and ActionRecorded out."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from medic_contracts import (
    ActionRecorded,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DetectionReason,
    DiagnosisReady,
    Envelope,
    FixStrategy,
    IssueDetected,
    MedicConfig,
    Producer,
    Severity,
    TopicName,
    TopicRegistry,
)
from medic_investigator.adapters.store import StoreCaseMemory
from medic_investigator.app import build
from medic_investigator.settings import InvestigatorSettings
from medic_runtime import ServiceSettings
from medic_runtime.bus import encode_event
from medic_testing.investigator.fake_messages_api import Reply, running, text_message
from medic_testing.runtime.topics import read_topic

from .helpers import BASE_DATE, git, issue_from_trace, make_repo, run_python
from .test_claude import FINAL, TRIAGE_OK
from .test_playbook_python import DB, ROUTES_BUGGY, ROUTES_GOOD

pytestmark = pytest.mark.kafka


async def _publish(bootstrap: str, topic: str, event: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        value, key, headers = encode_event(event)
        await producer.send_and_wait(topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str, until: Callable[[list[Any]], bool], timeout: float = 60.0) -> list[Any]:
    """Events of ``topic`` from the beginning, until ``until(events)`` holds."""
    return await read_topic(bootstrap, topic, until=until, timeout=timeout)


def _forge_and_clone(tmp_path: Path) -> tuple[Path, str]:
    """A bare forge remote and a clone of it made *before* the bad commit was pushed (so only a fetch finds it)."""
    repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_GOOD})
    forge = tmp_path / "forge.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(forge))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(forge), str(clone))
    (repo / "app/routes.py").write_text(textwrap.dedent(ROUTES_BUGGY).lstrip("\n"))
    git(repo, "commit", "-qam", "Load practice details in one query", date=BASE_DATE + timedelta(days=5))
    git(repo, "push", "-q", str(forge), "main")
    return clone, git(repo, "rev-parse", "HEAD").strip()


def _medic_toml(tmp_path: Path, clone: Path, llm: str) -> Path:
    path = tmp_path / "medic.toml"
    path.write_text(
        f"""
[target]
name = "shop"
repo = "{clone}"
language = "python"
test_command = "pytest -q"

[llm]
{llm}
""",
        encoding="utf-8",
    )
    return path


def _issue(repo_for_trace: Path, commit: str) -> IssueDetected:
    trace = run_python(
        repo_for_trace, "from app.routes import practice_detail; practice_detail('404')", deployed_prefix="/var/task/"
    )
    return issue_from_trace(trace, commit=commit, issue_id="iss_svc", fingerprint="fp_svc")


async def test_issue_detected_becomes_a_diagnosis_of_the_deployed_commit_after_fetching_origin(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path
) -> None:
    clone, bug_sha = _forge_and_clone(tmp_path)
    toml = _medic_toml(tmp_path, clone, 'provider = "playbook"')
    trace_repo, _ = make_repo(tmp_path / "trace", {**DB, "app/routes.py": ROUTES_BUGGY})
    issue = _issue(trace_repo, bug_sha)
    settings = service_settings("investigator", cls=InvestigatorSettings, targets=str(toml), workdir=tmp_path / "work")
    runtime = build(settings)  # type: ignore[arg-type]
    await runtime.start()
    try:
        await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), issue)
        diagnoses = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 1)
        actions = await _read(
            kafka_bootstrap,
            topics.name(TopicName.ACTIONS),
            lambda es: any(isinstance(e, ActionRecorded) and e.action == "investigator.diagnosed" for e in es),
        )
        # The fix was rolled back in production; the issue is reworked: memory lowers confidence in the same strategy.
        rolled_back = issue.follow_up(
            DeploymentResult,
            producer=issue.producer,
            issue=issue.brief(),
            run_id="run_1",
            stage=DeploymentStage.PRODUCTION,
            outcome=DeploymentOutcome.ROLLED_BACK,
            commit_sha=bug_sha,
        )
        await _publish(kafka_bootstrap, topics.name(TopicName.DEPLOYMENTS_RESULT), rolled_back)
        memory = StoreCaseMemory(runtime.store)
        for _ in range(200):  # wait until the investigator's own group has consumed it
            if any(c.outcome == "rolled_back" for c in await memory.recall(fingerprint=issue.fingerprint)):
                break
            await asyncio.sleep(0.1)
        await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), issue.with_fresh_id())
        again = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 2)
    finally:
        await runtime.stop()
    assert len(again) == 2 and again[1].confidence < again[0].confidence  # type: ignore[attr-defined]
    assert any(e.kind == "memory" for e in again[1].evidence)  # type: ignore[attr-defined]
    diagnosis = diagnoses[0]
    assert isinstance(diagnosis, DiagnosisReady)
    assert diagnosis.issue_id == "iss_svc" and diagnosis.causation_id == issue.event_id
    assert diagnosis.affected_file == "app/routes.py" and diagnosis.suspect_commit is not None
    assert diagnosis.suspect_commit.sha == bug_sha  # read at the deployed commit, which only `git fetch` brought in
    assert diagnosis.fix_strategy == FixStrategy.REVERT_COMMIT and diagnosis.provider == "playbook"
    done = next(e for e in actions if isinstance(e, ActionRecorded) and e.action == "investigator.diagnosed")
    assert done.issue_id == "iss_svc" and done.details["diagnosis_event_id"] == diagnosis.event_id
    assert (tmp_path / "work" / "checkouts" / "shop" / bug_sha / "app" / "routes.py").is_file()


async def test_a_rate_limited_llm_puts_the_work_back_and_the_diagnosis_still_arrives(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path
) -> None:
    clone, bug_sha = _forge_and_clone(tmp_path)
    trace_repo, _ = make_repo(tmp_path / "trace", {**DB, "app/routes.py": ROUTES_BUGGY})
    issue = _issue(trace_repo, bug_sha)
    script = [Reply(status=429, headers={"retry-after": "1"}), TRIAGE_OK, text_message(json.dumps(FINAL))]
    async with running(script) as fake:
        toml = _medic_toml(tmp_path, clone, f'provider = "claude"\nbase_url = "{fake.url}"\nmax_retries = 0')
        settings = service_settings(
            "investigator", cls=InvestigatorSettings, targets=str(toml), workdir=tmp_path / "work", anthropic_api_key="test-key"
        )
        runtime = build(settings)  # type: ignore[arg-type]
        await runtime.start()
        try:
            await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), issue)
            diagnoses = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 1)
            actions = await _read(
                kafka_bootstrap,
                topics.name(TopicName.ACTIONS),
                lambda es: any(isinstance(e, ActionRecorded) and e.action == "investigator.diagnosed" for e in es),
            )
        finally:
            await runtime.stop()
    assert len(fake.requests) == 3
    assert diagnoses[0].provider == "claude" and diagnoses[0].fix_strategy == FixStrategy.NULL_GUARD  # type: ignore[union-attr]
    postponed = [e for e in actions if isinstance(e, ActionRecorded) and e.action == "investigator.llm_unavailable"]
    assert len(postponed) == 1 and "429" in postponed[0].summary


async def test_an_llm_that_stays_rate_limited_past_the_patience_sends_the_playbook_diagnosis_to_a_human(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path
) -> None:
    clone, bug_sha = _forge_and_clone(tmp_path)
    trace_repo, _ = make_repo(tmp_path / "trace", {**DB, "app/routes.py": ROUTES_BUGGY})
    issue = _issue(trace_repo, bug_sha)
    script = [Reply(status=429, headers={"retry-after": "1"}) for _ in range(50)]
    async with running(script) as fake:
        llm = f'provider = "claude"\nbase_url = "{fake.url}"\nmax_retries = 0\nunavailable_patience_s = 3'
        toml = _medic_toml(tmp_path, clone, llm)
        settings = service_settings(
            "investigator", cls=InvestigatorSettings, targets=str(toml), workdir=tmp_path / "work", anthropic_api_key="test-key"
        )
        runtime = build(settings)  # type: ignore[arg-type]
        await runtime.start()
        try:
            await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), issue)
            diagnoses = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 1)
            actions = await _read(
                kafka_bootstrap,
                topics.name(TopicName.ACTIONS),
                lambda es: any(isinstance(e, ActionRecorded) and e.action == "investigator.diagnosed" for e in es),
            )
            await asyncio.sleep(2.0)  # nothing retries after the escalation
            calls = len(fake.requests)
            await asyncio.sleep(2.0)
        finally:
            await runtime.stop()
    (diagnosis,) = diagnoses
    assert isinstance(diagnosis, DiagnosisReady)
    assert diagnosis.needs_human and diagnosis.fix_strategy is FixStrategy.NEEDS_HUMAN and diagnosis.provider == "playbook"
    assert any(e.kind == "llm_unavailable" and "429" in e.summary for e in diagnosis.evidence)
    postponed = [e for e in actions if isinstance(e, ActionRecorded) and e.action == "investigator.llm_unavailable"]
    assert postponed, "the first rate limits should have postponed the diagnosis"
    assert len(fake.requests) == calls == len(postponed) + 1  # one last try past the patience, then no more calls


async def _control(bootstrap: str, topics: TopicRegistry, command: CommandName, *, paused: bool) -> None:
    config = MedicConfig(version=1)
    await _publish(
        bootstrap,
        topics.name(TopicName.CONTROL),
        ControlCommand(
            producer=Producer(service="control-api", instance="test"),
            command=command,
            actor="test",
            paused=paused,
            config=config.model_dump(mode="json") if command is CommandName.STATE_SNAPSHOT else None,
            config_version=config.version if command is CommandName.STATE_SNAPSHOT else None,
        ),
    )


async def test_a_p1_after_a_burst_of_p3s_is_diagnosed_first_and_a_p4_is_skipped_for_the_weekly_review(
    service_settings: Callable[..., ServiceSettings], topics: TopicRegistry, kafka_bootstrap: str, tmp_path: Path
) -> None:
    clone, bug_sha = _forge_and_clone(tmp_path)
    toml = _medic_toml(tmp_path, clone, 'provider = "playbook"')
    trace_repo, _ = make_repo(tmp_path / "trace", {**DB, "app/routes.py": ROUTES_BUGGY})
    trace = run_python(trace_repo, "from app.routes import practice_detail; practice_detail('404')", deployed_prefix="/var/task/")
    burst = [issue_from_trace(trace, commit=bug_sha, issue_id=f"iss_p3_{n}", fingerprint=f"fp_p3_{n}", severity=Severity.P3)
             for n in range(5)]  # fmt: skip
    urgent = issue_from_trace(trace, commit=bug_sha, issue_id="iss_p1", fingerprint="fp_p1", severity=Severity.P1)
    informational = issue_from_trace(trace, commit=bug_sha, issue_id="iss_p4", fingerprint="fp_p4", severity=Severity.P4)
    # Paused, the investigator records work but claims none: the whole burst is waiting when the P1 arrives.
    await _control(kafka_bootstrap, topics, CommandName.STATE_SNAPSHOT, paused=True)
    settings = service_settings("investigator", cls=InvestigatorSettings, targets=str(toml), workdir=tmp_path / "work",
                                diagnose_concurrency=1)  # fmt: skip
    runtime = build(settings)  # type: ignore[arg-type]
    await runtime.start()
    try:
        assert runtime.paused
        for issue in [*burst, informational, urgent]:
            await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), issue)
        for _ in range(300):
            if (await runtime.work.counts()).get("queued") == 7:
                break
            await asyncio.sleep(0.05)
        assert (await runtime.work.counts()).get("queued") == 7
        await _control(kafka_bootstrap, topics, CommandName.RESUME, paused=False)
        diagnoses = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 6)
        actions = await _read(
            kafka_bootstrap,
            topics.name(TopicName.ACTIONS),
            lambda es: any(isinstance(e, ActionRecorded) and e.action == "investigator.skipped" for e in es),
        )
        # The P4 becomes a P2: now it is diagnosed (the skipped P4 work does not stand in its way).
        risen = informational.with_fresh_id().model_copy(
            update={"severity": Severity.P2, "previous_severity": Severity.P4, "reason": DetectionReason.SEVERITY_RAISED}
        )
        await _publish(kafka_bootstrap, topics.name(TopicName.ISSUES_DETECTED), risen)
        after_rise = await _read(kafka_bootstrap, topics.name(TopicName.DIAGNOSES_READY), lambda es: len(es) >= 7)
    finally:
        await runtime.stop()
    assert after_rise[-1].issue_id == "iss_p4" and after_rise[-1].issue.severity is Severity.P2  # type: ignore[attr-defined]
    order = [d.issue_id for d in diagnoses]
    assert order[0] == "iss_p1", order
    assert sorted(order[1:]) == [f"iss_p3_{n}" for n in range(5)]
    assert "iss_p4" not in order
    skipped = [a for a in actions if isinstance(a, ActionRecorded) and a.action == "investigator.skipped"]
    assert [a.issue_id for a in skipped] == ["iss_p4"] and "weekly review" in skipped[0].summary


def test_a_bad_llm_section_stops_start_up_naming_the_field(
    tmp_path: Path, service_settings: Callable[..., ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("MEDIC_ANTHROPIC_API_KEY", raising=False)
    toml = _medic_toml(tmp_path, tmp_path, 'provider = "gpt"')
    settings = service_settings("investigator", cls=InvestigatorSettings, targets=str(toml))
    with pytest.raises(ValueError, match=r"llm\.provider"):
        build(settings)  # type: ignore[arg-type]
    claude_without_key = _medic_toml(tmp_path, tmp_path, 'provider = "claude"')
    settings = service_settings("investigator", cls=InvestigatorSettings, targets=str(claude_without_key))
    with pytest.raises(ValueError, match="API key"):
        build(settings)  # type: ignore[arg-type]


def test_a_diagnosis_round_per_issue_renewed_by_regression_failed_fix_or_replay(tmp_path: Path) -> None:
    from medic_investigator.domain.rounds import diagnosis_key

    repo, commit = make_repo(tmp_path / "k", {**DB, "app/routes.py": ROUTES_BUGGY})
    issue = _issue(repo, commit)
    louder = issue.with_fresh_id()
    assert diagnosis_key(issue, replay_of=None) == diagnosis_key(louder, replay_of=None)  # a severity rise: same round
    after_rollback = diagnosis_key(louder, replay_of=None, setbacks=1)
    assert after_rollback != diagnosis_key(issue, replay_of=None)
    assert after_rollback == diagnosis_key(louder.with_fresh_id(), replay_of=None, setbacks=1)
    regressed = issue.model_copy(update={"reason": DetectionReason.REGRESSED})
    assert diagnosis_key(regressed, replay_of=None) != diagnosis_key(issue, replay_of=None)
    assert diagnosis_key(issue, replay_of="evt_1") != diagnosis_key(issue, replay_of=None)
