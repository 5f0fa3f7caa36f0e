"""Static-checks step, per candidate: the repository's own type checker and linters on the unfixed tree and on the
candidate, in the target's own environment; the candidate may add no diagnostic in its files or their callers.

Which checkers run and how the two runs compare is decided in :mod:`..domain.static_checks`; the runs go
through :mod:`..adapters.checkers` (the test sandbox). The unfixed tree's run happens once per checker and
scope, on the first candidate that needs it (:mod:`.unfixed`), and is reused by the next candidates.
"""

from __future__ import annotations

from medic_contracts import ActionStatus

from ..adapters.checkers import find_checker, read_check_config, run_checker
from ..adapters.workspace import Workspace
from ..domain.commit_message import one_line
from ..domain.guard import PathGuard
from ..domain.static_checks import (
    Checker,
    CheckOutcome,
    Diagnostic,
    StaticVerdict,
    callers_of,
    configured_checkers,
    judge_check,
    parse_diagnostics,
)
from .context import FixJob
from .unfixed import unfixed_tree

__all__ = ["static_checks"]

_SOURCES = (".py", ".pyi", ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_MAX_SCOPE = 60


async def static_checks(job: FixJob, ws: Workspace, guard: PathGuard, files: tuple[str, ...], *, origin: str) -> StaticVerdict:
    """Every configured checker's verdict on the candidate the worktree holds (``files``: what it changed); audited."""
    if job.checkers is None:
        job.checkers = configured_checkers(read_check_config(ws.path))
    outcomes: list[CheckOutcome] = []
    sources: dict[str, str] | None = None
    for checker in job.checkers:
        changed = tuple(f for f in files if f.endswith(checker.suffixes))
        if not changed:
            continue  # the candidate changes nothing this checker reads
        if sources is None:
            sources = await ws.source_files(_SOURCES)
        scope = tuple(dict.fromkeys((*changed, *callers_of(changed, sources))))[:_MAX_SCOPE]
        if checker not in job.checker_found:
            job.checker_found[checker] = find_checker(checker, ws.path, job.runner.limits.tool_paths)
        executable = job.checker_found[checker]
        if executable is None:
            outcomes.append(judge_check(checker, base=None, candidate=None, scope=scope, installed=False))
            continue
        operands = () if checker.whole_project else scope
        candidate, failure = await _diagnostics(job, ws, checker, operands)
        key = (checker.value, operands)
        if key not in job.checker_base:
            async with unfixed_tree(ws, guard, files):
                job.checker_base[key] = await _diagnostics(job, ws, checker, operands)
        base, base_failure = job.checker_base[key]
        outcomes.append(judge_check(checker, base=base, candidate=candidate, scope=scope, failure=base_failure or failure))
    verdict = StaticVerdict(tuple(outcomes))
    if verdict.configured:
        blocked = verdict.blocking()
        status = ActionStatus.SUCCEEDED if not blocked else ActionStatus.FAILED if not verdict.clean else ActionStatus.SKIPPED
        job.audit(
            "implementer.static_checks",
            status,
            one_line(f"{origin} candidate: {verdict.summary}", limit=1900),
            {"origin": origin, "files": list(files[:20]), "checks": verdict.details()},
        )
    return verdict


async def _diagnostics(
    job: FixJob, ws: Workspace, checker: Checker, operands: tuple[str, ...]
) -> tuple[tuple[Diagnostic, ...] | None, str]:
    """The checker's diagnostics on the tree the worktree holds now, or None and why it did not run."""
    present = tuple(f for f in operands if (ws.path / f).is_file())
    if operands and not present:
        return (), ""  # every file in scope is absent on this tree: nothing to report
    executable = job.checker_found.get(checker)
    if executable is None:
        return None, "not installed"
    run = await run_checker(job.runner, checker, executable, root=ws.path, files=present)
    if run.timed_out or run.returncode is None:
        return None, f"did not finish: {one_line(run.output[-300:])}"
    found = parse_diagnostics(checker, run.output, roots=(str(ws.path.resolve()), str(ws.path)))
    if found is None or (run.returncode != 0 and not found):
        return None, f"exit {run.returncode} without diagnostics it could read: {one_line(run.output[-300:])}"
    return found, ""
