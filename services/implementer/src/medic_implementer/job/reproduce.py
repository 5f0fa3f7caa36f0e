"""Reproduce step, before any candidate: replay the production failure against the unfixed code.

The reproducer is built from the event: the failing request for an HTTP handler (:mod:`..domain.regression`),
else the crashing frame's arguments for a plain function (:mod:`..domain.function_regression`). It runs with
the job's runner — in the sandbox, on the target's own environment (its virtualenv or ``node_modules`` made by
``setup_command``, see :mod:`.environment`) — and the run's observation is judged by
:func:`~..domain.reproduction.judge_reproduction`: reproduced only with the same exception type, in the same
function. The verdict is audited and kept on the job for the release gate; the reproducer is what every
candidate is then verified with (:mod:`.regression`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from medic_contracts import ActionStatus, DiagnosisReady, RequestContext, TargetConfig

from ..adapters.workspace import Workspace
from ..domain.failure import frame_from_evidence, request_from_evidence
from ..domain.function_regression import call_arguments, module_of
from ..domain.guard import PathGuard
from ..domain.regression import (
    RegressionTest,
    find_python_app,
    python_regression_test,
    request_path,
    typescript_regression_test,
)
from ..domain.reproduction import (
    Observation,
    Reproduction,
    ReproductionStatus,
    expected_type,
    judge_reproduction,
    observation_from,
)
from ..domain.ts_reproducers import (
    call_values,
    exported_function,
    express_handler_test,
    next_route_file,
    typescript_function_test,
)
from .context import FixJob
from .input_search import search_reproducer
from .probe import Reproducer, observe_text, python_function_reproducer, python_test_dir, regression_stem, typescript_test_layout

__all__ = ["Reproducer", "build_reproducer", "observe", "reproduce"]


async def observe(job: FixJob, ws: Workspace, guard: PathGuard, test: RegressionTest) -> tuple[bool, Observation | None]:
    """Write ``test``, run it alone in the sandbox: (passed, what it observed)."""
    passed, text = await observe_text(job, ws, guard, path=test.path, content=test.content, command=test.command, cwd=test.cwd)
    return passed, observation_from(text) if text else None


async def reproduce(job: FixJob, ws: Workspace, guard: PathGuard) -> Reproducer | None:
    """Build the reproducer and run it on the unfixed code; the verdict goes to ``job.reproduction`` and the audit.

    Returns the reproducer only when it reproduced the failure (the one every candidate is verified with).
    """
    diagnosis = job.diagnosis
    reproducer = await build_reproducer(ws, diagnosis, job.target)
    search = reproducer is None and request_from_evidence(diagnosis) is None and frame_from_evidence(diagnosis) is None
    if search:
        reproducer = await search_reproducer(job, ws, guard)
    if reproducer is None or guard.check(reproducer.test.path).refused:
        job.reproduction = Reproduction(
            ReproductionStatus.NO_REPRODUCER,
            "no reproducer: the event carries neither a replayable request nor the crashing frame's arguments"
            + (", and no searched input failed as production did" if search else ""),
        )
    else:
        passed, observed = await observe(job, ws, guard, reproducer.test)
        verdict = judge_reproduction(
            observed,
            exception_type=expected_type(diagnosis.issue.title),
            affected_file=diagnosis.affected_file,
            function=diagnosis.affected_function,
        )
        if passed and verdict.reproduced:  # the test must fail too, not only record the exception
            verdict = Reproduction(ReproductionStatus.DID_NOT_FAIL, "the reproducer passed on the unfixed code", observed)
        if search and verdict.reproduced:
            verdict = Reproduction(
                verdict.status, f"{verdict.reason}, with a searched input: {reproducer.test.description}"[:1900], observed
            )
        job.reproduction = verdict
        await ws.reset()
    verdict = job.reproduction
    job.audit(
        "implementer.reproduction",
        ActionStatus.SUCCEEDED if verdict.reproduced else ActionStatus.SKIPPED,
        verdict.reason[:1900],
        {
            "status": verdict.status.value,
            "reproducer": reproducer.test.path if reproducer else None,
            "description": reproducer.test.description if reproducer else None,
            "observed": _observed_details(verdict.observed),
        },
    )
    return reproducer if verdict.reproduced else None


def _observed_details(observed: Observation | None) -> dict[str, Any] | None:
    if observed is None:
        return None
    return {"raised": observed.raised, "frames": [list(f) for f in observed.frames[-5:]], "status": observed.status}


async def build_reproducer(
    ws: Workspace, diagnosis: DiagnosisReady, target: TargetConfig, *, request: RequestContext | None = None
) -> Reproducer | None:
    """The reproducer for the affected file: its request replayed when the event has one, else its function called
    with the crashing frame's arguments; None when neither can be built.

    ``request`` replays that request instead (a captured passing request, see :mod:`.behaviour`): HTTP only.
    """
    affected = diagnosis.affected_file
    if affected is None:
        return None
    replay = request is not None
    request = request or request_from_evidence(diagnosis)
    if affected.endswith(".py"):
        files = await ws.source_files((".py",))
        test_dir = python_test_dir(files)
        app = find_python_app(files) if request is not None else None
        if request is not None and app is not None:

            def http(expected: dict[str, Any] | None) -> RegressionTest | None:
                return python_regression_test(
                    issue_id=diagnosis.issue_id,
                    title=diagnosis.issue.title,
                    request=request,
                    app=app,
                    test_dir=test_dir,
                    expected=expected,
                )

            test = http(None)
            return Reproducer(test, http) if test is not None else None
        return None if replay else _function_reproducer(diagnosis, files, test_dir)
    return await _typescript_reproducer(ws, diagnosis, target, request)


def _function_reproducer(diagnosis: DiagnosisReady, files: dict[str, str], test_dir: str) -> Reproducer | None:
    """A plain Python function called again with the crashing frame's literal arguments."""
    frame, affected, function = frame_from_evidence(diagnosis), diagnosis.affected_file, diagnosis.affected_function
    if frame is None or affected is None or not function or affected not in files:
        return None
    module, _ = module_of(affected)
    if not all(part.isidentifier() for part in module.split(".")):
        return None
    arguments = call_arguments(files[affected], function, frame.vars)
    if arguments is None:
        return None
    return python_function_reproducer(
        issue_id=diagnosis.issue_id,
        title=diagnosis.issue.title,
        file=affected,
        function=function,
        arguments=arguments,
        test_dir=test_dir,
    )


async def _typescript_reproducer(
    ws: Workspace, diagnosis: DiagnosisReady, target: TargetConfig, request: RequestContext | None
) -> Reproducer | None:
    """The failing request replayed through the exported route handler (the Next.js route serving it when the crash
    is in a module it calls) or the exported ``(req, res)`` handler that crashed; without a request, the exported
    function called with the crashing frame's arguments. Beside the project's own tests."""
    affected = diagnosis.affected_file or ""
    source = ws.path / affected
    if not source.is_file():
        return None
    names = await ws.tracked_files()
    test_file, package_dir = typescript_test_layout(ws, names, affected, regression_stem(diagnosis.issue_id))
    text = source.read_text(errors="replace")
    function = (diagnosis.affected_function or "").rsplit(".", 1)[-1]
    common = {"issue_id": diagnosis.issue_id, "title": diagnosis.issue.title, "test_command": target.test_command}
    common |= {"test_file": test_file, "package_dir": package_dir}
    builder: Callable[[dict[str, Any] | None], RegressionTest | None]
    if request is None:
        frame = frame_from_evidence(diagnosis)
        signature = exported_function(text, affected, function) if function and frame is not None else None
        arguments = call_values(signature[0], frame.vars) if signature is not None and frame is not None else None
        if arguments is None:
            return None
        args = arguments

        def builder(expected: dict[str, Any] | None) -> RegressionTest | None:
            return typescript_function_test(file=affected, function=function, arguments=args, expected=expected, **common)

    else:
        route_file, route_text = affected, text
        path = request_path(request)
        method = (request.method or "GET").upper()
        if path is not None and not re.search(rf"export\s+(?:async\s+)?(?:function|const)\s+{method}\b", text):
            found = next_route_file(names, path)  # the crash is in a module the route serving the request calls
            if found is not None and (ws.path / found).is_file():
                route_file, route_text = found, (ws.path / found).read_text(errors="replace")
        req = request

        def route(expected: dict[str, Any] | None) -> RegressionTest | None:
            return typescript_regression_test(
                request=req, route_file=route_file, route_text=route_text, expected=expected, **common
            )

        def handler(expected: dict[str, Any] | None) -> RegressionTest | None:
            return express_handler_test(
                request=req, handler_file=affected, handler_text=text, function=function, expected=expected, **common
            )

        builder = route if route(None) is not None else handler
    test = builder(None)
    return Reproducer(test, builder) if test is not None else None
