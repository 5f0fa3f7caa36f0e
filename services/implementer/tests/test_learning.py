"""The learning loop in the implementer: real store (PostgreSQL), real git repository, real test runs.

A fix that was rolled back, rejected or rated poorly is analysed into the issue's audit trail and
its strategy is tried last for a matching issue afterwards; ratings and rejections move the
strategy's confidence.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from medic_contracts import (
    ActionRecorded,
    ApprovalKind,
    CheckVerdict,
    CommandName,
    ControlCommand,
    DeploymentOutcome,
    DeploymentResult,
    DeploymentStage,
    DiagnosisReady,
    FixStrategy,
    MedicConfig,
    Producer,
    TopicName,
    TopicRegistry,
    event_adapter,
)
from medic_implementer.adapters.store import fix_approvals
from medic_implementer.app import build
from medic_implementer.job import OutcomeKind
from medic_implementer.settings import ImplementerSettings
from medic_implementer.worker import FAILURE_ANALYSED, FixWorker
from medic_runtime import Emitter, ServiceRuntime, ServiceSettings, WorkContext, WorkItem
from medic_testing.implementer import (
    OPERATOR,
    PY_DB,
    PY_MAIN_BUG,
    PY_MAIN_GOOD,
    PY_TEST,
    PY_TEST_COMMAND,
    FixtureRepo,
    make_repo,
    produce,
    python_diagnosis,
    read_events,
    set_config,
    write_target,
)

RELEASER = Producer(service="releaser", instance="releaser-test")


@pytest.fixture
async def runtime(python_repo: FixtureRepo, tmp_path: Path, fresh_postgres_url: str) -> AsyncIterator[ServiceRuntime]:
    """The implementer wired as in production, on its own PostgreSQL store, control state read and running."""
    settings = ImplementerSettings(
        service_name="implementer",
        instance_id="implementer-test",
        store_url=fresh_postgres_url,
        data_dir=tmp_path / "data",
        target_file=write_target(python_repo, tmp_path),
        tool_paths=(Path(sys.executable).parent,),
        workspace_dir=tmp_path / "worktrees",
        log_format="text",
        # The fixes here have no request to replay: this file is about learning, not the release gate.
        fix_require_reproduction=False,
        fix_min_confidence=0.0,
    )
    rt = build(settings)
    await rt.store.create_all(*rt.extra_tables)
    rt.control.caught_up.set()  # the control state is known: not paused
    try:
        yield rt
    finally:
        await rt.store.close()


def implementer_of(rt: ServiceRuntime) -> FixWorker:
    implementer = rt.work.workers["fix"].fn.__self__  # type: ignore[attr-defined]
    assert isinstance(implementer, FixWorker)
    return implementer


def work_context(rt: ServiceRuntime, diagnosis: DiagnosisReady) -> WorkContext:
    item = WorkItem(
        id=1,
        kind="fix",
        dedup_key=f"fix:{diagnosis.event_id}",
        issue_id=diagnosis.issue_id,
        priority=2,
        payload={},
        headers={},
        attempts=1,
        max_attempts=5,
        created_at=time.time(),
    )
    return WorkContext(item, queue=rt.work, topics=rt.topics, producer=rt.producer, control=rt.control)


def analyses(emitter: Emitter) -> list[ActionRecorded]:
    events = [event_adapter().validate_json(value) for _topic, value, _key, _headers in emitter.pending]
    return [e for e in events if isinstance(e, ActionRecorded) and e.action == FAILURE_ANALYSED]


def null_pointer(repo: FixtureRepo, issue_id: str, fingerprint: str) -> DiagnosisReady:
    """The practice-lookup crash, with the bad commit as suspect (so reverts are candidates too)."""
    diag = python_diagnosis(repo, issue_id=issue_id, suspect=repo.bug_sha, request=None)
    return diag.model_copy(update={"issue": diag.issue.model_copy(update={"fingerprint": fingerprint})})


@pytest.mark.postgres
async def test_a_strategy_whose_fix_was_rolled_back_is_not_chosen_first_for_a_matching_issue(
    runtime: ServiceRuntime, python_repo: FixtureRepo
) -> None:
    implementer = implementer_of(runtime)
    first = null_pointer(python_repo, "iss_first", "fp-first")
    done = await implementer.fix(first, work_context(runtime, first), config=MedicConfig(), attempt=1)
    assert done.kind is OutcomeKind.COMMITTED and done.strategy is FixStrategy.NULL_GUARD  # the fixer's first choice

    rolled_back = DeploymentResult(
        producer=RELEASER,
        issue_id="iss_first",
        issue=first.issue,
        run_id="run-1",
        stage=DeploymentStage.PRODUCTION,
        outcome=DeploymentOutcome.ROLLED_BACK,
        commit_sha=done.commit_sha or "",
        checks=(
            CheckVerdict(name="health", passed=True, detail="healthy"),
            CheckVerdict(name="error_rate", passed=False, value=0.09, baseline=0.01, detail="error rate 9% vs baseline 1%"),
        ),
        reason="error rate rose after the deploy",
    )
    async with runtime.transaction() as tx:
        await implementer.learn_from_deployment(tx.conn, rolled_back, tx)
        [analysis] = analyses(tx)
    assert analysis.issue_id == "iss_first" and analysis.causation_id == rolled_back.event_id
    assert analysis.details["strategy"] == "null_guard" and analysis.details["signal"] == "rolled_back"
    assert analysis.details["cause"] == "error_rate_rose" and "error rate 9%" in str(analysis.details["findings"])
    assert "rolled back at production" in analysis.summary and "tried last" in (analysis.reasoning or "")

    # Another issue (another fingerprint) with the same kind of fault in the same file.
    second = null_pointer(python_repo, "iss_second", "fp-second")
    ctx = work_context(runtime, second)
    fixed = await implementer.fix(second, ctx, config=MedicConfig(), attempt=1)
    assert fixed.kind is OutcomeKind.COMMITTED
    assert fixed.strategy is not FixStrategy.NULL_GUARD and fixed.strategy is FixStrategy.PARTIAL_REVERT
    tried = {c["strategy"]: c for c in fixed.candidates}
    assert tried["null_guard"]["tests"] == "passed" and tried["null_guard"]["avoided"] is True  # it passed, yet came second
    events = [event_adapter().validate_json(value) for _t, value, _k, _h in ctx.pending]
    committed = next(e for e in events if isinstance(e, ActionRecorded) and e.action == "implementer.fix_committed")
    assert committed.details["learning"]["avoid"] == ["null_guard"]  # type: ignore[index,call-overload]

    # A redelivered rollback adds no second analysis.
    async with runtime.transaction() as tx:
        await implementer.learn_from_deployment(tx.conn, rolled_back, tx)
        assert analyses(tx) == []


@pytest.mark.postgres
async def test_a_rejection_lowers_and_a_good_rating_raises_the_strategys_confidence(
    runtime: ServiceRuntime, python_repo: FixtureRepo
) -> None:
    implementer = implementer_of(runtime)
    diag = null_pointer(python_repo, "iss_rated", "fp-rated")
    before = (await implementer.memory.recall(diag)).confidence_of(FixStrategy.NULL_GUARD)
    async with runtime.store.transaction() as conn:
        await conn.execute(
            fix_approvals.insert().values(
                approval_id="apr-1",
                issue_id=diag.issue_id,
                diagnosis=diag.model_dump_json(),
                attempt="1",
                diff="",
                diff_hash="sha256:x",
                base_sha=python_repo.bug_sha,
                strategy="null_guard",
                description="guard practice",
                tests='{"command": "pytest", "outcome": "passed"}',
                regression_test=None,
                status="pending",
                expires_at=time.time() + 600,
                decided_by=None,
                created_at=time.time(),
                decided_at=None,
            )
        )
    reject = ControlCommand(
        producer=OPERATOR,
        issue_id=diag.issue_id,
        command=CommandName.REJECT,
        actor="alice",
        reason="hides the missing row instead of fixing the lookup",
        approval_id="apr-1",
        approval_kind=ApprovalKind.FIX,
    )
    await implementer.decide(reject, approve=False)
    learning = await implementer.memory.recall(diag)
    after_rejection = learning.confidence_of(FixStrategy.NULL_GUARD)
    assert after_rejection < before
    assert learning.avoided(FixStrategy.NULL_GUARD) and "rejected" in learning.why_avoided[FixStrategy.NULL_GUARD]

    rating = ControlCommand(
        producer=OPERATOR,
        issue_id=diag.issue_id,
        command=CommandName.FEEDBACK,
        actor="bob",
        rating=5,
        comment="on reflection, the right guard",
        fix_strategy=FixStrategy.NULL_GUARD,
    )
    await implementer.learn_from_feedback(rating)
    await implementer.learn_from_feedback(rating)  # every instance sees a command: it counts once
    after_rating = (await implementer.memory.recall(diag)).confidence_of(FixStrategy.NULL_GUARD)
    assert after_rating > after_rejection
    assert after_rating == pytest.approx((1 + 1) / (2 + 1 + 1))  # Beta(1,1) + one rejection + one 5/5 rating


@pytest.mark.postgres
async def test_a_poor_rating_and_a_rejected_deploy_are_analysed_into_the_issue(
    runtime: ServiceRuntime, python_repo: FixtureRepo
) -> None:
    implementer = implementer_of(runtime)
    diag = null_pointer(python_repo, "iss_poor", "fp-poor")
    async with runtime.store.transaction() as conn:
        await implementer.memory.remember_fix(
            conn, key="k1", diagnosis=diag, strategy=FixStrategy.PARTIAL_REVERT, commit_sha="abc123", diff_hash=None
        )
    poor = ControlCommand(
        producer=OPERATOR,
        issue_id=diag.issue_id,
        command=CommandName.FEEDBACK,
        actor="carol",
        rating=1,
        comment="reverted a feature",
    )
    deploy_rejected = ControlCommand(
        producer=OPERATOR,
        issue_id=diag.issue_id,
        command=CommandName.REJECT,
        actor="dave",
        reason="not before the sale",
        approval_id="apr-deploy-1",
        approval_kind=ApprovalKind.DEPLOY,
    )
    await implementer.learn_from_feedback(poor)
    await implementer.learn_from_deploy_rejection(deploy_rejected)
    from sqlalchemy import select

    from medic_runtime.store import outbox

    async with runtime.store.engine.connect() as conn:
        values = (await conn.execute(select(outbox.c.value))).scalars().all()
    found = [e for e in (event_adapter().validate_json(v) for v in values) if isinstance(e, ActionRecorded)]
    by_signal = {a.details["signal"]: a for a in found if a.action == FAILURE_ANALYSED}
    assert set(by_signal) == {"rated", "rejected"}
    assert by_signal["rated"].details["strategy"] == "partial_revert" and "rated 1/5" in by_signal["rated"].summary
    assert "reverted a feature" in by_signal["rated"].summary
    assert (
        by_signal["rejected"].details["cause"] == "rejected_by_human" and "not before the sale" in by_signal["rejected"].summary
    )
    learning = await implementer.memory.recall(diag)
    assert learning.avoided(FixStrategy.PARTIAL_REVERT) and learning.confidence_of(FixStrategy.PARTIAL_REVERT) < 0.5


@pytest.mark.postgres
async def test_a_fix_whose_tests_all_fail_is_analysed_and_its_strategy_avoided(tmp_path: Path, fresh_postgres_url: str) -> None:
    gone = PY_TEST + (
        "\n\ndef test_unknown_practice_is_gone() -> None:\n"
        '    assert TestClient(app).get("/api/practices/999").status_code == 410, "unknown practices are gone"\n'
    )
    repo = make_repo(
        tmp_path,
        good={"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_GOOD, "tests/test_main.py": gone},
        bug={"app/main.py": PY_MAIN_BUG},
        language="python",
        test_command=PY_TEST_COMMAND,
    )
    settings = ImplementerSettings(
        service_name="implementer",
        instance_id="implementer-test",
        store_url=fresh_postgres_url,
        data_dir=tmp_path / "data",
        target_file=write_target(repo, tmp_path),
        tool_paths=(Path(sys.executable).parent,),
        workspace_dir=tmp_path / "worktrees",
        log_format="text",
        # The fixes here have no request to replay: this file is about learning, not the release gate.
        fix_require_reproduction=False,
        fix_min_confidence=0.0,
    )
    rt = build(settings)
    await rt.store.create_all(*rt.extra_tables)
    rt.control.caught_up.set()
    try:
        implementer = implementer_of(rt)
        diag = python_diagnosis(repo, issue_id="iss_gone", request=None)
        ctx = work_context(rt, diag)
        outcome = await implementer.fix(diag, ctx, config=MedicConfig(), attempt=1)
        assert outcome.kind is OutcomeKind.NO_FIX
        [analysis] = [a for a in analyses(ctx) if a.details["strategy"] == "null_guard"]
        assert analysis.details["signal"] == "tests_failed" and analysis.details["cause"] == "tests_failed"
        assert analysis.issue_id == "iss_gone" and "AssertionError" in analysis.summary
        assert analysis.details["avoid_for"] == {  # what a later issue is matched against
            "fingerprint": "fp1",
            "error_kind": "none_value",
            "file": "app/main.py",
            "function": None,
        }
        assert (await implementer.memory.recall(diag)).avoided(FixStrategy.NULL_GUARD)
    finally:
        await rt.store.close()


@pytest.mark.kafka
async def test_a_rollback_and_a_rating_on_the_bus_reach_the_implementers_history(
    service_settings: Callable[..., ServiceSettings],
    python_repo: FixtureRepo,
    tmp_path: Path,
    topics: TopicRegistry,
    topic_prefix: str,
    kafka_bootstrap: str,
) -> None:
    await set_config(kafka_bootstrap, topic_prefix, MedicConfig(version=1))
    settings = service_settings(
        "implementer",
        cls=ImplementerSettings,
        target_file=write_target(python_repo, tmp_path),
        tool_paths=(Path(sys.executable).parent,),
        workspace_dir=tmp_path / "worktrees",
    )
    assert isinstance(settings, ImplementerSettings)
    rt = build(settings)
    await rt.start()
    try:
        implementer = implementer_of(rt)
        diag = null_pointer(python_repo, "iss_bus", "fp-bus")
        async with rt.store.transaction() as conn:
            await implementer.memory.remember_fix(
                conn, key="bus-1", diagnosis=diag, strategy=FixStrategy.NULL_GUARD, commit_sha="c0ffee", diff_hash=None
            )
        rolled = DeploymentResult(
            producer=RELEASER,
            issue_id="iss_bus",
            issue=diag.issue,
            run_id="run-bus",
            stage=DeploymentStage.STAGING,
            outcome=DeploymentOutcome.ROLLED_BACK,
            commit_sha="c0ffee",
            checks=(CheckVerdict(name="new_fingerprints", passed=False, detail="2 new errors"),),
        )
        rating = ControlCommand(
            producer=OPERATOR, issue_id="iss_bus", command=CommandName.FEEDBACK, actor="erin", rating=5, comment="fine"
        )
        await produce(kafka_bootstrap, topics.name(TopicName.DEPLOYMENTS_RESULT), rolled)
        actions = await read_events(
            kafka_bootstrap,
            topics.name(TopicName.ACTIONS),
            until=lambda es: any(isinstance(e, ActionRecorded) and e.action == FAILURE_ANALYSED for e in es),
            timeout=30,
        )
        [analysis] = [a for a in actions if isinstance(a, ActionRecorded) and a.action == FAILURE_ANALYSED]
        assert analysis.details["cause"] == "new_errors" and analysis.causation_id == rolled.event_id
        # The rating comes after the rollback (the two topics are not ordered against each other): the latest word is good.
        await produce(kafka_bootstrap, topics.name(TopicName.CONTROL), rating)

        async def rated() -> bool:
            learning = await implementer.memory.recall(diag)
            # Rolled back (a failure), then rated 5/5: Beta(1 + 1, 1 + 1).
            return learning.confidence_of(FixStrategy.NULL_GUARD) == pytest.approx(0.5) and not learning.avoided(
                FixStrategy.NULL_GUARD
            )

        deadline = time.monotonic() + 20
        while not await rated():
            assert time.monotonic() < deadline, "the feedback command was not applied"
            await asyncio.sleep(0.2)
    finally:
        await rt.stop()
