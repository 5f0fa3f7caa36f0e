"""The Claude provider with the real anthropic SDK against a local server speaking the Messages API."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import FixStrategy, LlmBudget, MedicConfig
from medic_investigator.adapters.diagnosis_request import DiagnosisRequest
from medic_investigator.adapters.llm.claude import ClaudeProvider
from medic_investigator.adapters.llm.section import LlmSection
from medic_investigator.adapters.repo import Repository
from medic_investigator.adapters.store import InMemorySpendLedger
from medic_investigator.domain.errors import BudgetExceeded, ProviderUnavailable
from medic_investigator.job.diagnose import run_diagnosis
from medic_investigator.job.investigate import investigate
from medic_testing.investigator.fake_messages_api import Reply, load_script, running, text_message, tool_use_message

from .helpers import BASE_DATE, issue_from_trace, make_repo, run_python, target_for
from .test_playbook_python import DB, ROUTES_BUGGY

TRIAGE_OK = text_message(
    json.dumps(
        {"code_level": True, "fixability": 0.9, "reason": "null dereference after a lookup", "injection_suspected": False}
    ),
    model="claude-haiku-4-5",
    usage={"input_tokens": 800, "output_tokens": 40, "cache_creation_input_tokens": 600, "cache_read_input_tokens": 0},
)

FINAL = {
    "root_cause": "get_practice returns None for an unknown id and practice_detail reads practice.id without a check.",
    "affected_file": "app/routes.py",
    "affected_lines": [6, 6],
    "affected_function": "practice_detail",
    "fix_strategy": "null_guard",
    "fix_hint": "guard `practice`; return a 404 'Practice not found'",
    "confidence": 0.9,
    "fixability": 0.9,
    "estimated_fix_minutes": 5,
    "evidence": [{"kind": "code", "summary": "get_practice returns None when the row is missing", "source": "app/db.py:12"}],
}

SECRETS = (
    "hunter2-very-secret",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "s3cr3t-from-dotenv",
)


def _provider(url: str, ledger: InMemorySpendLedger | None = None, **section: Any) -> ClaudeProvider:
    import anthropic

    settings = LlmSection(provider="claude", base_url=url, max_retries=0, **section)
    client = anthropic.AsyncAnthropic(api_key="test-key", base_url=url, max_retries=0, timeout=section.get("timeout_s", 10.0))
    return ClaudeProvider(section=settings, api_key="test-key", ledger=ledger or InMemorySpendLedger(), client=client)


async def _scenario(tmp_path: Path, *, message_suffix: str = "") -> tuple[Path, Any]:
    repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_BUGGY, ".env": f"DATABASE_PASSWORD={SECRETS[4]}\n"})
    trace = run_python(repo, "from app.routes import practice_detail; practice_detail('404')", deployed_prefix="/var/task/")
    issue = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=60))
    frames = list(issue.frames)
    frames[-1] = frames[-1].model_copy(
        update={
            "vars": {
                "password": SECRETS[0],
                "stripe": SECRETS[1],
                "aws": f"key={SECRETS[2]}",
                "auth_header": f"token {SECRETS[3]}",
            }
        }
    )
    assert issue.exception is not None
    exc = issue.exception.model_copy(update={"value": issue.exception.value + message_suffix})
    issue = issue.model_copy(update={"frames": tuple(frames), "exception": exc, "message": f"{exc.type}: {exc.value}"})
    return repo, issue


async def test_tool_loop_refuses_escapes_and_repeats_repairs_invalid_json_and_accounts_cost(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    script = [
        TRIAGE_OK,
        tool_use_message([("read_file", {"path": "app/routes.py", "start_line": 1, "end_line": 8})]),
        tool_use_message(
            [
                ("read_file", {"path": ".env"}),
                ("read_file", {"path": "../../../../etc/passwd"}),
                ("run_shell", {"command": "cat .env"}),
                ("read_file", {"path": "app/routes.py", "start_line": 1, "end_line": 8}),
                ("search_code", {"query": "def get_practice"}),
                ("git_blame", {"path": "app/routes.py", "start_line": 5, "end_line": 6}),
            ]
        ),
        text_message("The practice can be None, so I would add a guard. {root_cause: practice is None}"),
        text_message(json.dumps(FINAL)),
    ]
    ledger = InMemorySpendLedger()
    async with running(script) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url, ledger))

    diagnosis = outcome.event
    assert diagnosis.provider == "claude" and diagnosis.model == "claude-sonnet-4-6"
    assert diagnosis.fix_strategy == FixStrategy.NULL_GUARD and not diagnosis.needs_human
    assert diagnosis.affected_file == "app/routes.py" and diagnosis.affected_lines is not None
    assert len(fake.requests) == 5
    assert fake.requests[0].body["model"] == "claude-haiku-4-5"
    # The tool results of the third request: escapes, unknown tools and the repeated call refused; the rest answered.
    results = {
        r["tool_use_id"]: json.loads(r["content"])
        for r in fake.requests[3].body["messages"][-1]["content"]
        if r["type"] == "tool_result"
    }
    statuses = {key.split("_", 2)[2]: value["status"] for key, value in results.items()}
    assert [v["status"] for v in results.values()] == ["refused", "refused", "refused", "refused", "ok", "ok"]
    assert statuses["search_code"] == "ok" and statuses["git_blame"] == "ok"
    assert "identical call" in next(iter(v for v in results.values() if "identical" in (v["error"] or "")))["error"]
    # The repair request says what was wrong and offers no tools.
    assert "invalid JSON" in json.dumps(fake.requests[4].body["messages"][-1])
    assert fake.requests[4].body["tool_choice"] == {"type": "none"}
    # Prompt caching: the system prompt and the last tool definition are marked.
    assert fake.requests[1].body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert fake.requests[1].body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    # Tokens and cost: 1 triage + 4 investigation calls at the fake's usage figures.
    assert diagnosis.tokens.input_tokens == 800 + 4 * 1200 and diagnosis.tokens.output_tokens == 40 + 4 * 150
    expected = (800 * 1.0 + 40 * 5.0 + 600 * 1.25) / 1e6 + 4 * (1200 * 3.0 + 150 * 15.0) / 1e6
    assert diagnosis.cost_usd == pytest.approx(expected, rel=1e-6)
    assert (await ledger.spent(issue_id=issue.issue_id))[0] == pytest.approx(expected, rel=1e-6)
    refusals = [e for e in diagnosis.evidence if e.kind == "tool_refusal"]
    assert len(refusals) == 3 and any(".env" in (e.summary + (e.detail or "")) for e in refusals)


async def test_secrets_in_frame_variables_and_the_repository_never_reach_the_messages_api(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path, message_suffix=f" (password={SECRETS[0]})")
    script = [
        TRIAGE_OK,
        tool_use_message([("read_file", {"path": ".env"}), ("search_code", {"query": "DATABASE_PASSWORD"})]),
        text_message(json.dumps(FINAL)),
    ]
    async with running(script) as fake:
        await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))

    assert len(fake.requests) == 3
    sent = "\n".join(r.raw for r in fake.requests)
    for secret in SECRETS:
        assert secret not in sent, secret
    assert "[REDACTED" in sent  # the variables were there, redacted
    assert "untrusted-frames-" in sent and "untrusted-message-" in sent  # telemetry is fenced


async def test_the_last_step_offers_no_tools_and_the_answer_is_still_taken(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    script = [
        TRIAGE_OK,
        tool_use_message([("list_files", {"path": ""})]),
        tool_use_message([("list_files", {"path": "app"})]),
        text_message(json.dumps(FINAL)),
    ]
    async with running(script) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url, max_steps=3))

    assert [r.body["tool_choice"]["type"] for r in fake.requests[1:]] == ["auto", "auto", "none"]
    assert "last step" in json.dumps(fake.requests[3].body["messages"][-1])
    assert outcome.event.provider == "claude"


async def test_rate_limit_and_overload_become_retry_later_with_the_servers_delay(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    async with running([Reply(status=429, headers={"retry-after": "7"})]) as fake:
        with pytest.raises(ProviderUnavailable) as limited:
            await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))
    assert limited.value.retry_after_s == 7.0
    async with running([TRIAGE_OK, Reply(status=529)]) as fake:
        with pytest.raises(ProviderUnavailable, match="529"):
            await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))


async def test_a_timeout_becomes_retry_later(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    async with running([Reply(delay_s=3.0, body={"never": "sent"})]) as fake:
        with pytest.raises(ProviderUnavailable, match="timed out"):
            await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url, timeout_s=0.5))


async def test_exhausted_budgets_stop_before_calling_and_ask_a_human(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    ledger = InMemorySpendLedger()
    await ledger.add(issue_id=issue.issue_id, model="claude-sonnet-4-5", usd=2.5, input_tokens=1, output_tokens=1)
    async with running([TRIAGE_OK]) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url, ledger))
        assert fake.requests == []  # nothing sent once the per-issue budget is spent
    assert outcome.budget_exceeded is not None and outcome.budget_exceeded.scope == "per-issue"
    assert outcome.event.needs_human and outcome.event.fix_strategy == FixStrategy.NEEDS_HUMAN
    assert any(e.kind == "budget" for e in outcome.event.evidence)
    # Per day: other issues spent today's budget.
    day = InMemorySpendLedger()
    await day.add(issue_id="iss_other", model="claude-sonnet-4-5", usd=0.02, input_tokens=1, output_tokens=1)
    config = MedicConfig(llm_budget=LlmBudget(per_issue_usd=1.0, per_day_usd=0.01))
    provider = _provider("http://127.0.0.1:9", day)
    inv = await investigate(issue, target=target_for(repo), repo=Repository(repo), config=config)
    with pytest.raises(BudgetExceeded, match="per-day"):
        await provider.diagnose(inv, DiagnosisRequest(repo=Repository(repo), issue_id=issue.issue_id, budget=config.llm_budget))


async def test_invalid_answers_beyond_the_retries_fall_back_to_the_playbook_for_a_human(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    bad = {**FINAL, "affected_file": "../outside.py"}
    script = [
        TRIAGE_OK,
        text_message("no json at all"),
        text_message(json.dumps(bad)),
        text_message(json.dumps({**FINAL, "confidence": 7})),
    ]
    async with running(script) as fake:
        outcome = await run_diagnosis(
            issue, target=target_for(repo), repo=repo, provider=_provider(fake.url, max_output_retries=2)
        )
    assert len(fake.requests) == 4
    assert "not a file of the repository" in json.dumps(fake.requests[3].body["messages"][-1])
    assert outcome.provider_fallback is not None
    event = outcome.event
    assert event.needs_human and event.provider == "playbook" and event.tokens.input_tokens > 0
    assert event.affected_file == "app/routes.py"  # the playbook still localises it for the human
    assert any(e.kind == "llm_invalid_output" for e in event.evidence)


async def test_triage_saying_not_fixable_skips_the_investigation(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    triage = text_message(
        json.dumps({"code_level": False, "fixability": 0.1, "reason": "database is down"}), model="claude-haiku-4-5"
    )
    async with running([triage]) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))
    assert len(fake.requests) == 1
    assert outcome.event.needs_human and "database is down" in outcome.event.root_cause


CORPUS = [
    json.loads(line) for line in (Path(__file__).parent / "data" / "injection_corpus.jsonl").read_text().splitlines() if line
]


@pytest.mark.parametrize("case", CORPUS, ids=[f"injection-{i}" for i in range(len(CORPUS))])
async def test_prompt_injection_in_telemetry_is_flagged_and_tools_stay_confined(tmp_path: Path, case: dict[str, Any]) -> None:
    repo, issue = await _scenario(tmp_path, message_suffix=" " + case["message"])
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("TOP-SECRET-OUTSIDE")
    (repo / "link").symlink_to(outside)
    complying = tool_use_message(
        [
            ("read_file", {"path": ".env"}),
            ("read_file", {"path": "/etc/passwd"}),
            ("read_file", {"path": "link"}),
            ("read_file", {"path": ".git/config"}),
            ("write_file", {"path": "app/routes.py", "content": "pwned"}),
            ("search_code", {"query": "x", "path": "../"}),
        ]
    )
    script = [TRIAGE_OK, complying, text_message(json.dumps(FINAL))]
    async with running(script) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))

    results = [json.loads(r["content"]) for r in fake.requests[2].body["messages"][-1]["content"] if r["type"] == "tool_result"]
    assert [r["status"] for r in results] == ["refused"] * 6
    sent = "\n".join(r.raw for r in fake.requests)
    assert "TOP-SECRET-OUTSIDE" not in sent and SECRETS[4] not in sent and "root:x:0:0" not in sent
    assert (repo / "app/routes.py").read_text().startswith("from app.db")  # nothing was written
    flags = [e for e in outcome.event.evidence if e.kind == "injection_attempt"]
    flagged = " ".join(e.summary for e in flags)
    for kind in case["expect"]:
        assert f"({kind})" in flagged, (kind, flagged)
    assert any(e.kind == "tool_refusal" for e in outcome.event.evidence)


async def test_a_recorded_session_replays_into_the_expected_diagnosis_with_its_accounting(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    script = load_script(Path(__file__).parent / "data" / "claude" / "null_guard_session.json")
    async with running(script) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))

    event = outcome.event
    assert (event.fix_strategy, event.affected_file, event.affected_function) == (
        FixStrategy.NULL_GUARD,
        "app/routes.py",
        "practice_detail",
    )
    assert event.tokens.cache_read_tokens == 2 * 1830 and event.tokens.cache_write_tokens == 640 + 1830
    db_read = json.loads(fake.requests[3].body["messages"][-1]["content"][0]["content"])
    assert db_read["status"] == "ok" and any("return None" in line for line in db_read["data"]["lines"])
    blame = json.loads(fake.requests[3].body["messages"][-1]["content"][1]["content"])
    assert blame["status"] == "ok" and {entry["line"] for entry in blame["data"]["lines"]} == {4, 5, 6}


async def test_a_refused_request_falls_back_to_the_playbook_for_a_human(tmp_path: Path) -> None:
    repo, issue = await _scenario(tmp_path)
    async with running([Reply(status=401)]) as fake:
        outcome = await run_diagnosis(issue, target=target_for(repo), repo=repo, provider=_provider(fake.url))
    assert len(fake.requests) == 1 and outcome.provider_fallback is not None and "401" in outcome.provider_fallback
    assert outcome.event.needs_human and outcome.event.affected_file == "app/routes.py"
    assert any(e.kind == "llm_error" for e in outcome.event.evidence)
