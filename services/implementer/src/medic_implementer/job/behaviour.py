"""Behaviour step, per candidate: the captured non-failing requests of the failing route, replayed against the
unfixed code and against the candidate, in the target's own environment.

Each request becomes a replay test built like the reproducer (:func:`.reproduce.build_reproducer`, HTTP only),
run in the sandbox with the job's runner; what it observed is compared by :mod:`..domain.behaviour`. The
unfixed code's answers are taken once per job, twice each (a response that changes between two runs of the same
code is not compared), on the first candidate that needs them (:mod:`.unfixed`). Replay tests never stay in the
worktree.
"""

from __future__ import annotations

from medic_contracts import ActionStatus

from ..adapters.workspace import Workspace
from ..domain.behaviour import BehaviourStatus, BehaviourVerdict, Replay, judge_behaviour, passing_requests
from ..domain.commit_message import one_line
from ..domain.guard import PathGuard
from ..domain.regression import RegressionTest
from ..domain.reproduction import Observation
from .context import FixJob
from .reproduce import build_reproducer, observe
from .unfixed import unfixed_tree

__all__ = ["behaviour_check"]


async def _replay(job: FixJob, ws: Workspace, guard: PathGuard, test: RegressionTest) -> Observation | None:
    try:
        _, observed = await observe(job, ws, guard, test)
    finally:
        (ws.path / test.path).unlink(missing_ok=True)
    return observed


async def _baseline(
    job: FixJob, ws: Workspace, guard: PathGuard, files: tuple[str, ...]
) -> tuple[tuple[RegressionTest | None, ...], tuple[Replay, ...]]:
    requests = passing_requests(job.diagnosis)
    tests: list[RegressionTest | None] = []
    for i, request in enumerate(requests):
        # Its own file name (the issue id leads the generated name): never the reproducer's pinned test.
        copy = job.diagnosis.model_copy(update={"issue_id": f"replay{i}-{job.diagnosis.issue_id}"})
        built = await build_reproducer(ws, copy, job.target, request=request)
        tests.append(built.test if built is not None and not guard.check(built.test.path).refused else None)
    replays: list[Replay] = []
    async with unfixed_tree(ws, guard, files):
        for request, test in zip(requests, tests, strict=True):
            if test is None:
                replays.append(Replay(request, None, None))
                continue
            first = await _replay(job, ws, guard, test)
            second = await _replay(job, ws, guard, test) if first is not None and first.raised is None else first
            replays.append(Replay(request, first, second))
    return tuple(tests), tuple(replays)


async def behaviour_check(
    job: FixJob, ws: Workspace, guard: PathGuard, files: tuple[str, ...], *, origin: str
) -> BehaviourVerdict:
    """Whether the candidate the worktree holds answers the captured requests as the unfixed code did; audited."""
    if job.replays is None:
        job.replays = await _baseline(job, ws, guard, files) if passing_requests(job.diagnosis) else ((), ())
    tests, baseline = job.replays
    after: list[Observation | None] = []
    for test, replay in zip(tests, baseline, strict=True):
        after.append(await _replay(job, ws, guard, test) if test is not None and replay.comparable is None else None)
    verdict = judge_behaviour(baseline, after)
    if baseline:
        job.audit(
            "implementer.behaviour",
            {
                BehaviourStatus.PRESERVED: ActionStatus.SUCCEEDED,
                BehaviourStatus.CHANGED: ActionStatus.FAILED,
                BehaviourStatus.NOT_CHECKED: ActionStatus.SKIPPED,
            }[verdict.status],
            one_line(f"{origin} candidate: {verdict.reason}", limit=1900),
            {"origin": origin, **verdict.details()},
        )
    return verdict
