"""Input-search step of reproduce: when the event carries no request and no frame arguments, find an input.

The candidates come from the crashing function's declared parameter types and the production message
(:mod:`..domain.input_search`); one generated program (:mod:`..domain.search_harness`) calls the function with
each of them in the sandbox, on the target's own environment, and records how every call failed. The first
call that failed exactly as production did (type, message, function) becomes the reproducer's input: the
same plain-function reproducer a frame's arguments would have built. The search and its verdict are audited;
no match means no reproducer, as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from medic_contracts import ActionStatus

from ..adapters.workspace import Workspace
from ..domain.failure import crash_line
from ..domain.function_regression import module_of
from ..domain.guard import PathGuard
from ..domain.input_search import SearchTry, matching_try, production_message, python_candidates
from ..domain.regression import RegressionTest
from ..domain.reproduction import expected_type
from ..domain.search_harness import SearchHarness, python_search_harness, typescript_search_harness
from ..domain.ts_inputs import imported_modules, typescript_candidates
from ..domain.ts_literals import calls_in_tests
from ..domain.ts_reproducers import exported_function, typescript_function_test
from .context import FixJob
from .probe import Reproducer, observe_text, python_function_reproducer, python_test_dir, regression_stem, typescript_test_layout

__all__ = ["search_reproducer"]


async def search_reproducer(job: FixJob, ws: Workspace, guard: PathGuard) -> Reproducer | None:
    """A plain-function reproducer called with a searched input that fails as production did; None without one."""
    diagnosis = job.diagnosis
    affected, function = diagnosis.affected_file, diagnosis.affected_function or ""
    exception_type, message = expected_type(diagnosis.issue.title), production_message(diagnosis.issue.title)
    source = ws.path / (affected or "")
    if not affected or not function or exception_type is None or message is None or not source.is_file():
        return None
    text = source.read_text(errors="replace")
    plan = await _plan(ws, job, affected=affected, function=function, text=text, message=message)
    if plan is None:
        return None
    harness, candidates, build = plan
    if guard.check(harness.path).refused:
        return None
    _, observed = await observe_text(
        job, ws, guard, path=harness.path, content=harness.content, command=harness.command, cwd=harness.cwd
    )
    await ws.reset()
    tries = _tries(observed)
    found = matching_try(
        tries,
        exception_type=exception_type,
        message=message,
        affected_file=affected,
        function=function,
        line=crash_line(diagnosis),
    )
    if found is not None and not 0 <= found.index < len(candidates):
        found = None  # the harness's record is the target's code's output: never trusted beyond the candidates
    reproducer = build(candidates[found.index]) if found is not None else None
    job.audit(
        "implementer.input_search",
        ActionStatus.SUCCEEDED if reproducer is not None else ActionStatus.SKIPPED,
        (
            f"{len(tries)} searched input(s) for {function}; "
            + (
                f"input {found.index + 1} failed as production did ({exception_type}: {message})"
                if found
                else "none failed as production did"
            )
        )[:1900],
        {
            "tried": len(tries),
            "candidates": len(candidates),
            "matched": found.index if found is not None else None,
            "arguments": json.dumps(candidates[found.index])[:1000] if found is not None else None,
            "raised": sorted({t.raised for t in tries if t.raised})[:10],
        },
    )
    return reproducer


_Build = Callable[[Any], "Reproducer | None"]  # a matching candidate → its reproducer


async def _plan(
    ws: Workspace, job: FixJob, *, affected: str, function: str, text: str, message: str
) -> tuple[SearchHarness, list[Any], _Build] | None:
    """The harness, its candidates, and how a matching candidate becomes a reproducer."""
    diagnosis = job.diagnosis
    if affected.endswith(".py"):
        module, _ = module_of(affected)
        py_candidates = python_candidates(text, function, message)
        if not py_candidates or not all(part.isidentifier() for part in module.split(".")):
            return None
        test_dir = python_test_dir(await ws.source_files((".py",)))
        harness = python_search_harness(file=affected, function=function, candidates=py_candidates, test_dir=test_dir)

        def python_build(arguments: dict[str, str]) -> Reproducer:
            return python_function_reproducer(
                issue_id=diagnosis.issue_id,
                title=diagnosis.issue.title,
                file=affected,
                function=function,
                arguments=arguments,
                test_dir=test_dir,
            )

        return harness, list(py_candidates), python_build
    name = function.rsplit(".", 1)[-1]
    signature = exported_function(text, affected, name)
    if signature is None:
        return None
    names = await ws.tracked_files()
    ts_candidates = typescript_candidates(
        signature[0],
        text,
        message,
        path=affected,
        declarations=_imported_text(ws, affected, text),
        test_calls=calls_in_tests(_test_files(ws, names, name), name),
    )
    search_file, package_dir = typescript_test_layout(ws, names, affected, "medic-input-search")
    test_file, _ = typescript_test_layout(ws, names, affected, regression_stem(diagnosis.issue_id))
    ts_harness = typescript_search_harness(
        file=affected,
        function=name,
        candidates=ts_candidates,
        test_file=search_file,
        test_command=job.target.test_command,
        package_dir=package_dir,
    )
    if ts_harness is None:
        return None

    common = {"issue_id": diagnosis.issue_id, "title": diagnosis.issue.title, "test_command": job.target.test_command}
    common |= {"test_file": test_file, "package_dir": package_dir}

    def ts_build(arguments: list[Any]) -> Reproducer | None:
        def call(expected: dict[str, Any] | None) -> RegressionTest | None:
            return typescript_function_test(file=affected, function=name, arguments=arguments, expected=expected, **common)

        test = call(None)
        return Reproducer(test, call) if test is not None else None

    return ts_harness, list(ts_candidates), ts_build


def _read_inside(ws: Workspace, name: str) -> str | None:
    """A repository file's text: None when it is missing, too large, or resolves outside the repository (a link)."""
    root = ws.path.resolve()
    file = (root / name).resolve()
    if file.is_relative_to(root) and file.is_file() and file.stat().st_size <= _MAX_READ_BYTES:
        return file.read_text(errors="replace")
    return None


def _imported_text(ws: Workspace, affected: str, text: str) -> str:
    """The text of the modules ``affected`` imports from by relative path (their types describe its parameters)."""
    texts: list[str] = []
    for choices in imported_modules(text, affected)[:_MAX_IMPORTS]:
        for choice in choices:  # the first that resolves, as the module loader picks it
            found = _read_inside(ws, choice)
            if found is not None:
                texts.append(found)
                break
    return "\n".join(texts)


def _test_files(ws: Workspace, names: list[str], function: str) -> list[tuple[str, str]]:
    """The project's TypeScript/JavaScript test files that name ``function`` (their calls give realistic inputs)."""
    found: list[tuple[str, str]] = []
    for name in names:
        if len(found) >= _MAX_TEST_FILES or "node_modules/" in name or not _TEST_FILE.search(name):
            continue
        text = _read_inside(ws, name)
        if text is not None and function in text:
            found.append((name, text))
    return found


_TEST_FILE = re.compile(r"(?:^|/)(?:tests?|__tests__)/.*\.[cm]?[jt]sx?$|\.(?:test|spec)\.[cm]?[jt]sx?$")
_MAX_TEST_FILES = 40
_MAX_IMPORTS = 8
_MAX_READ_BYTES = 200_000


def _tries(text: str) -> list[SearchTry]:
    """The harness's record, each try validated (a harness that crashed or wrote garbage: no tries)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return []
    tries: list[SearchTry] = []
    for item in data.get("tries", []) if isinstance(data, dict) else []:
        if not isinstance(item, dict) or not isinstance(item.get("index"), int):
            continue
        listed = [f for f in item.get("frames") or [] if isinstance(f, list | tuple) and len(f) >= 2]
        frames = tuple((str(f[0]), str(f[1])) for f in listed)
        lines = tuple(f[2] if len(f) > 2 and isinstance(f[2], int) and not isinstance(f[2], bool) else 0 for f in listed)
        raised = item.get("raised")
        message = str(item.get("message") or "")
        tries.append(SearchTry(item["index"], str(raised) if raised else None, message, frames, lines))
    return tries
