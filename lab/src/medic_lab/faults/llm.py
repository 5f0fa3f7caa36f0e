"""Fault cases around a real investigator process diagnosing with Claude, the Messages API being the test kit's fake server.

The real ``anthropic`` SDK in the investigator talks to :mod:`medic_testing.investigator.fake_messages_api`,
which replays a script: a reply held longer than the consumer's ``max_poll_interval_ms``, 429s with
``retry-after``, replies held past the client's timeout. Measured from the diagnoses and actions topics,
the requests the fake server saw and the store's outbox.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from medic_contracts import ActionRecorded, DiagnosisReady, IssueDetected, MedicConfig, Severity, TopicName
from medic_testing.implementer import produce
from medic_testing.investigator.buggy_target import buggy_target, issue_detected
from medic_testing.investigator.fake_messages_api import FakeMessagesApi, Reply, running, text_message
from medic_testing.runtime.plugin import test_env
from medic_testing.runtime.processes import ServiceProcess
from medic_testing.runtime.topics import read_topic

from .model import FaultResult, audit_duplicates, duplicated_rows, extra, outbox_rows
from .stack import Bus, stop_all

__all__ = ["claude_429_and_timeouts", "llm_call_outlives_max_poll_interval"]

MAX_POLL_INTERVAL_MS = 10_000  # the smallest the settings accept
TRIAGE = {"code_level": True, "fixability": 0.9, "reason": "null dereference after a lookup", "injection_suspected": False}
FINAL = {
    "root_cause": "find_practice returns None for an unknown id and practice_detail subscripts it without a check.",
    "affected_file": "app/routes.py",
    "affected_lines": [11, 11],
    "affected_function": "practice_detail",
    "fix_strategy": "null_guard",
    "fix_hint": "guard `practice`; answer 404 'Practice not found'",
    "confidence": 0.9,
    "fixability": 0.9,
    "estimated_fix_minutes": 5,
    "evidence": [{"kind": "code", "summary": "find_practice returns None when the id is unknown", "source": "app/routes.py:5"}],
}


def _triage(delay_s: float = 0.0) -> Reply:
    reply = text_message(json.dumps(TRIAGE), model="claude-haiku-4-5")
    return Reply(status=reply.status, body=reply.body, headers=reply.headers, delay_s=delay_s)


def _final() -> Reply:
    return text_message(json.dumps(FINAL))


def _rate_limited(retry_after_s: int = 1) -> Reply:
    return Reply(status=429, headers={"retry-after": str(retry_after_s)})


def _claude_target(root: Path, url: str, *, name: str = "shop", **llm: Any) -> tuple[Path, str, str]:
    """The buggy target with an ``[llm]`` section naming Claude behind ``url``."""
    toml, commit, trace = buggy_target(root)
    section = {"provider": "claude", "base_url": url, **llm}
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in section.items())
    text = toml.read_text().replace('[llm]\nprovider = "playbook"\n', f"[llm]\n{lines}")
    toml.write_text(text.replace('name = "shop"', f'name = "{name}"'))
    return toml, commit, trace


def _investigator(b: Bus, root: Path, targets: list[Path], **extra_env: str) -> ServiceProcess:
    data = root / "inv"
    env = test_env(b.bootstrap, b.prefix, data, MEDIC_TARGETS=",".join(map(str, targets)), MEDIC_WORKDIR=str(data / "work"),
                   MEDIC_ANTHROPIC_API_KEY="test-key", MEDIC_LOG_FORMAT="text", **extra_env)  # fmt: skip
    return ServiceProcess.console_script("investigator", "medic-investigator", env=env, log_dir=root)


async def _publish(b: Bus, *events: IssueDetected) -> None:
    await produce(b.bootstrap, b.topic(TopicName.ISSUES_DETECTED), *events)


async def _wait(b: Bus, topic: TopicName, check: Any, timeout: float) -> list[Any]:
    return await read_topic(b.bootstrap, b.topic(topic), until=check, timeout=timeout)


def _diagnoses(events: list[Any], issue_id: str) -> list[DiagnosisReady]:
    return list({e.event_id: e for e in events if isinstance(e, DiagnosisReady) and e.issue_id == issue_id}.values())


def _actions(events: list[Any], action: str, issue_id: str) -> list[ActionRecorded]:
    return [e for e in events if isinstance(e, ActionRecorded) and e.action == action and e.issue_id == issue_id]


async def _wait_requests(fake: FakeMessagesApi, n: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(fake.requests) >= n:
            return True
        await asyncio.sleep(0.05)
    return False


async def _measure(result: FaultResult, b: Bus, root: Path, issues: set[str]) -> tuple[list[Any], list[Any]]:
    await asyncio.sleep(3.0)  # a late duplicate shows up here
    diagnoses = await _wait(b, TopicName.DIAGNOSES_READY, lambda _: False, 4.0)
    actions = await _wait(b, TopicName.ACTIONS, lambda _: False, 4.0)
    mine = [a for a in actions if getattr(a, "issue_id", None) in issues]
    per_issue = {i: len(_diagnoses(diagnoses, i)) for i in issues}
    result.lost_issues = sum(1 for n in per_issue.values() if n == 0)
    result.duplicate("events", extra(per_issue.values()))
    result.duplicate("audit_rows", audit_duplicates(mine))
    if doubled := duplicated_rows(mine):
        result.observed["duplicated_audit_rows"] = doubled
    stuck = outbox_rows(root / "inv")
    result.unaudited_side_effects = stuck
    result.observed.update({"diagnoses": per_issue, "outbox_left": stuck})
    return diagnoses, actions


async def _outlives(b: Bus, root: Path, result: FaultResult) -> None:
    hold_s = MAX_POLL_INTERVAL_MS / 1000 + 6.0
    async with running([_triage(delay_s=hold_s), _final()]) as fake:
        toml, commit, trace = _claude_target(root, fake.url, max_retries=0, timeout_s=hold_s + 30)
        proc = _investigator(b, root, [toml], MEDIC_KAFKA_MAX_POLL_INTERVAL_MS=str(MAX_POLL_INTERVAL_MS))
        slow = issue_detected(1, trace, commit, prefix="iss_slow_llm")
        # A P4 is recorded and skipped without an LLM call: it shows the consumer still consumes mid-call.
        later = issue_detected(2, trace, commit, prefix="iss_slow_llm").model_copy(update={"severity": Severity.P4})
        try:
            proc.start()
            await asyncio.to_thread(proc.wait_healthy, 120.0)
            await _publish(b, slow)
            if not await _wait_requests(fake, 1, 120.0):
                raise TimeoutError(f"no LLM call was made\n{proc.log_tail()}")
            called = time.monotonic()
            await asyncio.sleep(MAX_POLL_INTERVAL_MS / 1000 + 1.0)
            await _publish(b, later)
            seen = await _wait(b, TopicName.ACTIONS, lambda ev: _actions(ev, "investigator.skipped", later.issue_id), 20.0)
            during = time.monotonic() - called
            result.checks["an issue sent after max_poll_interval_ms was consumed while the call was in flight"] = (
                bool(_actions(seen, "investigator.skipped", later.issue_id)) and during < hold_s
            )
            done = await _wait(b, TopicName.DIAGNOSES_READY, lambda ev: _diagnoses(ev, slow.issue_id), 90.0)
            answered = called + hold_s
            result.recovery_s = max(0.0, time.monotonic() - answered) if _diagnoses(done, slow.issue_id) else None
            diagnoses, _ = await _measure(result, b, root, {slow.issue_id})
        finally:
            await asyncio.to_thread(stop_all, proc)
    log = proc.log_path.read_text(errors="replace").lower()
    found = _diagnoses(diagnoses, slow.issue_id)
    result.observed.update({"llm_call_held_s": hold_s, "max_poll_interval_s": MAX_POLL_INTERVAL_MS / 1000,
                            "llm_requests": len(fake.requests), "rebalance_log_lines": log.count("rebalanc")})  # fmt: skip
    result.checks["diagnosed by Claude once"] = len(found) == 1 and found[0].provider == "claude"
    result.checks["the work was not redone (2 LLM calls: triage and investigation)"] = len(fake.requests) == 2


def llm_call_outlives_max_poll_interval(b: Bus, root: Path, result: FaultResult) -> None:
    """One LLM call held longer than the consumer's max_poll_interval_ms: no eviction, the work finishes once."""
    b.configure(MedicConfig(version=1))
    asyncio.run(_outlives(b, root, result))


PATIENCE_S = 8.0  # how long the sustained outage's target waits before a human gets the playbook's diagnosis


async def _rate_limits(b: Bus, root: Path, result: FaultResult) -> None:
    retries, timeout_s = 2, 1.5
    hung = Reply(body=_triage().body, delay_s=timeout_s + 3.0)  # answered only after the client gave up
    # Each work attempt is 1 + max_retries calls: three 429s, then three timeouts, then the answers.
    script = [*[_rate_limited()] * (retries + 1), *[hung] * (retries + 1), _triage(), _final()]
    async with running(script) as fake:
        transient_toml, commit, trace = _claude_target(root / "transient", fake.url, max_retries=retries, timeout_s=timeout_s)
        sustained_toml, _, _ = _claude_target(root / "sustained", fake.url, name="shop_sustained", max_retries=retries,
                                              timeout_s=timeout_s, unavailable_patience_s=PATIENCE_S)  # fmt: skip
        proc = _investigator(b, root, [transient_toml, sustained_toml], MEDIC_DIAGNOSE_CONCURRENCY="1")
        transient = issue_detected(1, trace, commit, prefix="iss_llm_flaky")
        sustained = issue_detected(1, trace, commit, prefix="iss_llm_down").model_copy(update={"target": "shop_sustained"})
        try:
            proc.start()
            await asyncio.to_thread(proc.wait_healthy, 120.0)
            await _publish(b, transient)
            if not await _wait_requests(fake, 1, 120.0):
                raise TimeoutError(f"no LLM call was made\n{proc.log_tail()}")
            first_failure = time.monotonic()
            done = await _wait(b, TopicName.DIAGNOSES_READY, lambda ev: _diagnoses(ev, transient.issue_id), 180.0)
            result.recovery_s = time.monotonic() - first_failure if _diagnoses(done, transient.issue_id) else None
            calls_transient = len(fake.requests)
            fake.script[:] = [_rate_limited()] * 200  # from now on Claude only answers 429
            await _publish(b, sustained)
            escalated = await _wait(b, TopicName.DIAGNOSES_READY, lambda ev: _diagnoses(ev, sustained.issue_id), 120.0)
            calls_at_escalation = len(fake.requests)
            diagnoses, actions = await _measure(result, b, root, {transient.issue_id, sustained.issue_id})
        finally:
            await asyncio.to_thread(stop_all, proc)
    fixed, human = _diagnoses(diagnoses, transient.issue_id), _diagnoses(escalated, sustained.issue_id)
    postponed = [a.summary for a in _actions(actions, "investigator.llm_unavailable", transient.issue_id)]
    result.observed.update({
        "llm_requests_transient": calls_transient,
        "postponed_transient": postponed,
        "postponements_sustained": len(_actions(actions, "investigator.llm_unavailable", sustained.issue_id)),
        "llm_requests_sustained": calls_at_escalation - calls_transient,
        "llm_requests_after_escalation": len(fake.requests) - calls_at_escalation,
        "patience_s": PATIENCE_S,
    })  # fmt: skip
    result.checks["429s and timeouts were retried, then Claude diagnosed the issue"] = (
        len(fixed) == 1 and fixed[0].provider == "claude" and not fixed[0].needs_human
    )
    result.checks["both the 429 and the timeout postponed the work"] = any("429" in p for p in postponed) and any(
        "timed out" in p for p in postponed
    )
    result.checks["a sustained outage escalated to a human with the playbook's diagnosis"] = (
        len(human) == 1 and human[0].needs_human and any(e.kind == "llm_unavailable" for e in human[0].evidence)
    )
    result.checks["no LLM call after the escalation"] = len(fake.requests) == calls_at_escalation


def claude_429_and_timeouts(b: Bus, root: Path, result: FaultResult) -> None:
    """Claude answers 429 (retry-after) and hangs past the client timeout; then, for another target, only 429s."""
    b.configure(MedicConfig(version=1))
    asyncio.run(_rate_limits(b, root, result))
