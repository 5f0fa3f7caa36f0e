"""Behaviour preserved: the captured passing requests of the failing route are replayed (real sandboxed runs, real
git) on the unfixed code and on each candidate; a fix that changes another request's response is not released."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from medic_contracts import ActionStatus, DecisionCode, Evidence, FixStrategy, RequestContext
from medic_implementer.domain.behaviour import (
    PASSING_REQUEST_KIND,
    BehaviourStatus,
    Replay,
    judge_behaviour,
    passing_requests,
)
from medic_implementer.domain.release_gate import GateCode
from medic_implementer.domain.reproduction import Observation
from medic_implementer.job import FixOptions, OutcomeKind, implement_fix
from medic_testing.implementer import FixtureRepo, local_forge, python_diagnosis

Audited = list[tuple[str, ActionStatus, str, dict[str, Any]]]


def recorder() -> tuple[Audited, Callable[[str, ActionStatus, str, dict[str, Any]], None]]:
    seen: Audited = []

    def audit(action: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
        seen.append((action, status, summary, details))

    return seen, audit


def captured(*requests: RequestContext) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(kind=PASSING_REQUEST_KIND, summary="recent successful request", detail=r.model_dump_json()) for r in requests
    )


KNOWN = RequestContext(method="GET", route="/api/practices/{practice_id}", url="http://testserver/api/practices/1", status=200)


class ShoutingFix:
    """Guards the missing practice, and also reshapes every answer (the repository's tests only read the name)."""

    async def propose(self, *, workspace: Path, **_: Any) -> tuple[tuple[str, ...], str, FixStrategy]:
        main = workspace / "app" / "main.py"
        text = main.read_text().replace("from fastapi import FastAPI", "from fastapi import FastAPI, HTTPException")
        text = text.replace(
            '    return {"id": practice.id, "name": practice.name}',
            "    if practice is None:\n"
            '        raise HTTPException(status_code=404, detail="Practice not found")\n'
            '    return {"id": practice.id, "name": practice.name, "state": "open"}',
        )
        main.write_text(text)
        return ("app/main.py",), "guard the practice", FixStrategy.LLM_EDIT


async def test_a_fix_that_keeps_the_other_requests_answers_is_released_and_says_so(
    python_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    seen, audit = recorder()
    diag = python_diagnosis(python_repo, evidence=captured(KNOWN)).model_copy(update={"affected_function": "read_practice"})
    outcome = await implement_fix(
        diag,
        target=python_repo.target,
        repo=python_repo.path,
        options=fix_options(),
        forge=local_forge(python_repo.remote),
        audit=audit,
    )
    assert outcome.kind is OutcomeKind.COMMITTED, (outcome.reasons, outcome.candidates)
    assert outcome.verification is not None and "behaviour preserved on 1 captured request" in outcome.verification
    replays = [s for s in seen if s[0] == "implementer.behaviour"]
    assert replays and replays[-1][1] is ActionStatus.SUCCEEDED and replays[-1][3]["compared"] == 1
    assert not any("replay" in f for f in outcome.files_changed)  # replay tests never stay


async def test_a_fix_that_changes_another_requests_response_is_refused_and_the_difference_recorded(
    python_repo: FixtureRepo, fix_options: Callable[..., FixOptions]
) -> None:
    seen, audit = recorder()
    diag = python_diagnosis(python_repo, evidence=captured(KNOWN), strategy=FixStrategy.LLM_EDIT)
    diag = diag.model_copy(update={"affected_function": "read_practice"})
    outcome = await implement_fix(
        diag,
        target=python_repo.target,
        repo=python_repo.path,
        options=fix_options(proposer=ShoutingFix(), max_candidates=0),
        audit=audit,
    )
    # Reproduced, verified, tests green: only the changed answer to GET /api/practices/1 keeps it from release.
    assert outcome.reproduced is True and outcome.verified is True, (outcome.reasons, outcome.candidates)
    assert outcome.kind is OutcomeKind.NEEDS_APPROVAL and outcome.commit_sha is None
    assert outcome.decision is not None and outcome.decision.code is DecisionCode.UNVERIFIED
    assert outcome.verification is not None and "behaviour changed on 1 of 1 captured requests" in outcome.verification
    assert (
        '{"id": "1", "name": "Harbour Dental"} became {"id": "1", "name": "Harbour Dental", "state": "open"}'
        in outcome.verification
    )  # the difference itself
    [replay] = [s for s in seen if s[0] == "implementer.behaviour"]
    assert replay[1] is ActionStatus.FAILED
    assert replay[3]["differences"][0]["request"] == "GET http://testserver/api/practices/1"
    [gate] = [s for s in seen if s[0] == "implementer.release_gate"]
    assert gate[3]["code"] == GateCode.BEHAVIOUR_CHANGED.value


def test_only_non_failing_requests_of_the_same_route_are_replayed_once_each_and_bounded(python_repo: FixtureRepo) -> None:
    failing = RequestContext(method="GET", route="/api/practices/{practice_id}", url="http://testserver/api/practices/999")
    other_route = RequestContext(method="GET", route="/api/health", url="http://testserver/api/health", status=200)
    server_error = KNOWN.model_copy(update={"url": "http://testserver/api/practices/7", "status": 503})
    post = KNOWN.model_copy(update={"method": "POST"})
    many = [KNOWN.model_copy(update={"url": f"http://testserver/api/practices/{i}"}) for i in range(1, 9)]
    diag = python_diagnosis(
        python_repo, request=failing, evidence=captured(failing, other_route, server_error, post, KNOWN, KNOWN, *many)
    )
    chosen = passing_requests(diag)
    assert [r.url for r in chosen] == [f"http://testserver/api/practices/{i}" for i in range(1, 6)]


def test_a_response_that_differs_between_two_unfixed_runs_is_not_compared() -> None:
    stable = Replay(
        KNOWN, Observation(status=200, body={"n": 1}, handler=True), Observation(status=200, body={"n": 1}, handler=True)
    )
    clock = Replay(
        KNOWN, Observation(status=200, body={"t": 1}, handler=True), Observation(status=200, body={"t": 2}, handler=True)
    )
    verdict = judge_behaviour([stable, clock], [Observation(status=200, body={"n": 1}, handler=True), None])
    assert verdict.status is BehaviourStatus.PRESERVED and verdict.compared == 1
    assert "nondeterministic" in verdict.skipped[0][1]
    changed = judge_behaviour([stable], [Observation(status=404, body={"detail": "x"}, handler=True)])
    assert changed.status is BehaviourStatus.CHANGED and "status 200 became 404" in changed.reason
    assert judge_behaviour([], []).preserved is None
