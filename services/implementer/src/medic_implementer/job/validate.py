"""Validate step: guard a candidate's files, match the repository's style, run the tests, the repository's static
checks (:mod:`.checks`), the captured requests' replays (:mod:`.behaviour`) and the regression test in the
sandbox, and capture the staged diff as a :class:`FixCandidate`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from medic_contracts import ActionStatus, FixStrategy

from ..adapters.git import GitError
from ..adapters.style import find_tool, repository_tools, run_step
from ..adapters.workspace import Workspace
from ..domain.candidates import FixCandidate
from ..domain.commit_message import one_line
from ..domain.errors import FixRefused
from ..domain.guard import GuardVerdict, PathGuard, final_diff_verdicts
from ..domain.static_checks import StaticVerdict
from ..domain.style import formatting_kept, style_steps
from .behaviour import behaviour_check
from .checks import static_checks
from .context import FixJob, write_guarded
from .regression import verify_fix
from .reproduce import Reproducer

__all__ = ["Change", "final_guard", "validate_candidate", "write_guarded"]

log = logging.getLogger("medic.implementer")


@dataclass(frozen=True, slots=True)
class Change:
    """A candidate fix the worktree now holds: its files, where it came from (template, revert, claude) and what it does.

    ``preference`` orders candidates of one origin (0 first).
    """

    files: tuple[str, ...]
    origin: str
    strategy: FixStrategy
    description: str
    preference: int = 0


async def final_guard(job: FixJob, ws: Workspace, guard: PathGuard, origin: str, *, worktree: bool = False) -> list[GuardVerdict]:
    """Re-check what is staged (or, with ``worktree``, on disk) against the guard; audit and return each refusal."""
    refused = final_diff_verdicts(guard, await ws.git.changes(ws.base_sha, worktree=worktree))
    for verdict in refused:
        job.refuse(verdict.path, verdict.reason, origin)
    return refused


async def _refuse_on_protected_writes(job: FixJob, ws: Workspace, guard: PathGuard, origin: str, *, worktree: bool) -> None:
    """Raise :class:`FixRefused` when the worktree or the index now holds a write the guard refuses."""
    refused = await final_guard(job, ws, guard, origin, worktree=worktree)
    if refused:
        raise FixRefused("; ".join(f"{v.path}: {v.reason}" for v in refused), paths=tuple(v.path for v in refused))


async def validate_candidate(
    job: FixJob,
    ws: Workspace,
    guard: PathGuard,
    change: Change,
    *,
    reproducer: Reproducer | None,
    evidence: frozenset[str],
) -> FixCandidate | None:
    """The candidate the worktree now holds, tested; None when the guard refuses a file, nothing changed, or it
    could not be tested. Raises :class:`FixRefused` when code it ran wrote a protected path."""
    for path in change.files:
        verdict = guard.check(path)
        if verdict.refused:
            job.refuse(path, verdict.reason, change.origin)
            return None
    if not change.files:
        return None
    try:
        return await _style_test_and_stage(job, ws, guard, change, reproducer=reproducer, evidence=evidence)
    except (GitError, OSError, ValueError) as exc:
        log.warning("candidate %s (%s) could not be validated: %s", change.strategy.value, change.origin, exc)
        return None


async def _style_test_and_stage(
    job: FixJob,
    ws: Workspace,
    guard: PathGuard,
    change: Change,
    *,
    reproducer: Reproducer | None,
    evidence: frozenset[str],
) -> FixCandidate:
    """Run the repository's style tools, the tests, the static checks, the replays and the regression test on guarded
    files; stage what passed."""
    files, origin = change.files, change.origin
    all_files = files
    styled = await _match_style(job, ws, files)
    result = await job.runner.run(job.target.test_command, cwd=ws.path)
    job.note_sandbox(result)
    # Code the fix does not control just ran: a protected file it rewrote refuses the whole fix.
    await _refuse_on_protected_writes(job, ws, guard, f"{origin} (tests)", worktree=True)
    checks, behaviour = StaticVerdict(), None
    if result.passed:  # before the pinned test is written: only the fix's own files are checked
        checks = await static_checks(job, ws, guard, files, origin=origin)
        behaviour = await behaviour_check(job, ws, guard, files, origin=origin)
        await _refuse_on_protected_writes(job, ws, guard, f"{origin} (static checks, replays)", worktree=True)
    reproduced, verify_reason = False, None
    if result.passed and reproducer is not None:
        # The reproduction runs again on its own, then is pinned to the fixed outcome: a broken generated test
        # must not sink a good fix (it only keeps it from being released without a human).
        verification = await verify_fix(job, ws, guard, reproducer)
        await _refuse_on_protected_writes(job, ws, guard, f"{origin} (regression test)", worktree=True)
        reproduced, verify_reason = verification.verified, verification.reason
        if verification.test is not None:
            all_files = (*files, verification.test.path)
    diff = await ws.stage(all_files) if result.passed else ""
    if diff:  # what git staged must be what the guard allowed: both sides, modes, links
        await _refuse_on_protected_writes(job, ws, guard, f"{origin} (staged)", worktree=False)
    return FixCandidate(
        strategy=change.strategy,
        origin=origin,
        description=change.description,
        files=all_files,
        diff=diff,
        tests=result.report,
        within_evidence=all(f in evidence for f in files),
        reproduced=reproduced,
        verify_reason=verify_reason,
        preference=change.preference,
        styled=styled,
        checks=checks,
        behaviour=behaviour,
    )


async def _match_style(job: FixJob, ws: Workspace, files: tuple[str, ...]) -> tuple[str, ...]:
    """Run the repository's own formatters/linters on the changed files; the tools whose output was kept."""
    if job.style_tools is None:
        job.style_tools = repository_tools(ws.path)
    present = [f for f in files if (ws.path / f).is_file() and not (ws.path / f).is_symlink()]
    steps = style_steps(job.style_tools, present)
    if not steps:
        return ()
    fixed = {f: (ws.path / f).read_text(errors="replace") for f in present}
    tool_paths = job.options.limits.tool_paths
    ran: list[str] = []
    for step in steps:
        if step.tool not in job.style_found:
            job.style_found[step.tool] = find_tool(step.tool, ws.path, tool_paths)
        done = await run_step(job.runner, step, root=ws.path, tool_paths=tool_paths, located=job.style_found)
        if done.result is None:
            job.note_style(
                f"missing:{step.tool.value}",
                ActionStatus.SKIPPED,
                f"the repository declares {step.tool.executable} but it is not installed in the checkout: not run",
                {"tool": step.tool.value},
            )
            continue
        if done.result.timed_out or done.result.returncode is None:
            job.note_style(
                f"failed:{step.tool.value}",
                ActionStatus.FAILED,
                f"{step.tool.value} did not finish: {one_line(done.result.output[-300:])}",
                {"tool": step.tool.value, "output": done.result.output[-2000:]},
            )
            continue
        ran.append(step.tool.value)
        job.note_style(
            f"ran:{step.tool.value}",
            ActionStatus.SUCCEEDED if done.result.ok else ActionStatus.SKIPPED,
            f"ran {step.tool.value} on {', '.join(step.files)}" + ("" if done.result.ok else f" (exit {done.result.returncode})"),
            {
                "tool": step.tool.value,
                "files": list(step.files),
                "exit": done.result.returncode,
                "output": done.result.output[-2000:],
            },
        )
    if not ran:
        return ()
    kept = True
    for name, text in fixed.items():
        path = ws.path / name
        base = await ws.git.run("show", f"{ws.base_sha}:{name}", check=False)
        formatted = path.read_text(errors="replace") if path.is_file() else ""
        if not formatting_kept(base=base.stdout if base.returncode == 0 else "", fixed=text, formatted=formatted):
            path.write_text(text)  # the file was not formatted before: restyling it would bury the fix
            kept = False
            job.note_style(
                f"dropped:{name}",
                ActionStatus.SKIPPED,
                f"{', '.join(ran)} would rewrite lines of {one_line(name, limit=200)} the fix did not touch: formatting not kept",
                {"file": name[:500], "tools": ran},
            )
    return tuple(ran) if kept else ()
