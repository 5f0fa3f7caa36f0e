"""Memory of past issues: stored in the service store (SQLite and PostgreSQL), recalled by fingerprint and similarity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from medic_contracts import FixStrategy
from medic_investigator.adapters.providers import PlaybookProvider
from medic_investigator.adapters.store import StoreCaseMemory, StoreSpendLedger, investigator_metadata
from medic_investigator.domain.diagnosis import Diagnosis
from medic_investigator.domain.memory import PastCase, adjust_with_memory, signature_tokens, similarity
from medic_investigator.job.diagnose import run_diagnosis
from medic_runtime import ServiceStore

from .helpers import BASE_DATE, issue_from_trace, make_repo, run_python, target_for
from .test_playbook_python import DB, ROUTES_BUGGY


def _diagnosis(strategy: FixStrategy = FixStrategy.NULL_GUARD, confidence: float = 0.8) -> Diagnosis:
    return Diagnosis("x", "app/routes.py", (6, 6), "f", strategy, confidence, 0.85, 5)


def test_similar_errors_share_tokens_and_ids_are_masked() -> None:
    a = signature_tokens(
        exception_type="AttributeError",
        message="'NoneType' object has no attribute 'id' for 4411",
        file="app/routes.py",
        function="practice_detail",
        statement="return practice.id",
    )
    b = signature_tokens(
        exception_type="AttributeError",
        message="'NoneType' object has no attribute 'id' for 9",
        file="app/routes.py",
        function="practice_detail",
        statement="return practice.id",
    )
    c = signature_tokens(
        exception_type="ZeroDivisionError",
        message="division by zero",
        file="app/stats.py",
        function="mean",
        statement="return total / count",
    )
    assert similarity(a, b) == 1.0
    assert similarity(a, c) < 0.2


def test_a_strategy_that_worked_raises_confidence_and_one_rolled_back_lowers_it() -> None:
    tokens = frozenset({"a", "b", "c"})
    worked = PastCase("iss_1", "fp", tokens, FixStrategy.NULL_GUARD, "app/routes.py", "promoted")
    failed = PastCase(
        "iss_2", "fp_other", frozenset({"a", "b", "c", "d"}), FixStrategy.NULL_GUARD, "app/routes.py", "rolled_back"
    )
    unrelated = PastCase("iss_3", "fp_x", frozenset({"z"}), FixStrategy.NULL_GUARD, "x.py", "rolled_back")
    other_strategy = PastCase("iss_4", "fp", tokens, FixStrategy.REVERT_COMMIT, "app/routes.py", "rolled_back")
    up = adjust_with_memory(_diagnosis(), fingerprint="fp", tokens=tokens, cases=[worked, unrelated, other_strategy])
    assert up.confidence == pytest.approx(0.9) and [e.source for e in up.evidence] == ["iss_1"]
    down = adjust_with_memory(_diagnosis(), fingerprint="fp", tokens=tokens, cases=[failed])
    assert down.confidence == pytest.approx(0.8 - 0.2 * 0.75) and "failed" in down.evidence[0].summary
    same = adjust_with_memory(_diagnosis(), fingerprint="fp", tokens=tokens, cases=[unrelated])
    assert same.confidence == 0.8 and same.evidence == ()


async def _memory_round_trip(url: str, tmp_path: Path) -> None:
    store = ServiceStore(url, service="investigator")
    await store.create_all(investigator_metadata)
    memory = StoreCaseMemory(store)
    ledger = StoreSpendLedger(store)
    try:
        repo, _ = make_repo(tmp_path, {**DB, "app/routes.py": ROUTES_BUGGY})
        trace = run_python(repo, "from app.routes import practice_detail; practice_detail('404')")
        first = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=60), issue_id="iss_first", fingerprint="fp_a")
        before = await run_diagnosis(first, target=target_for(repo), repo=repo, provider=PlaybookProvider(), memory=memory)
        assert before.event.fix_strategy == FixStrategy.NULL_GUARD
        assert await memory.record_outcome(issue_id="iss_first", outcome="rolled_back")
        assert not await memory.record_outcome(issue_id="iss_unknown", outcome="promoted")
        # The same error again under another fingerprint (another route, a new deploy): similar, not identical.
        again = issue_from_trace(trace, first_seen=BASE_DATE + timedelta(days=61), issue_id="iss_again", fingerprint="fp_b")
        after = await run_diagnosis(again, target=target_for(repo), repo=repo, provider=PlaybookProvider(), memory=memory)
        assert after.event.confidence < before.event.confidence
        assert any(e.kind == "memory" and e.source == "iss_first" for e in after.event.evidence)
        cases = await memory.recall(fingerprint="fp_b")
        assert {c.issue_id for c in cases} == {"iss_first", "iss_again"}
        await ledger.add(issue_id="iss_first", model="claude-sonnet-4-6", usd=0.25, input_tokens=10, output_tokens=5)
        await ledger.add(issue_id="iss_other", model="claude-haiku-4-5", usd=0.5, input_tokens=10, output_tokens=5)
        assert await ledger.spent(issue_id="iss_first") == (pytest.approx(0.25), pytest.approx(0.75))
    finally:
        await store.close()


async def test_memory_and_spend_live_in_a_sqlite_store(tmp_path: Path) -> None:
    await _memory_round_trip(f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}", tmp_path)


@pytest.mark.postgres
async def test_memory_and_spend_live_in_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    await _memory_round_trip(fresh_postgres_url, tmp_path)
