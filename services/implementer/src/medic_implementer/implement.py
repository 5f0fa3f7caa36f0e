"""Implementing a fix for one diagnosis, end to end, in-process.

:func:`implement_fix` is what the service's ``fix`` worker runs and what ``medic bench fix`` calls:
an isolated worktree on ``agent/fix-<issue>`` from the deployed commit; candidate fixes (templates,
reverts of the suspect commit, Claude when configured), each validated by the target's tests in a
sandbox together with a reproducing regression test; the best kept; the path guard and policy
applied; then a signed commit with ``Medic-*`` trailers, a push and a pull request into staging.

Durability: before doing anything it looks for a commit carrying this event's ``Medic-Event``
trailer on the fix branch (locally and on the forge); if there is one, it only re-pushes and
finds-or-opens the pull request, so a redelivered event or a crash after the push ends in the same
single commit and pull request.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from medic_contracts import (
    ActionStatus,
    Decision,
    DiagnosisReady,
    Evidence,
    FixCommitted,
    FixStrategy,
    MedicConfig,
    PolicyFacts,
    Producer,
    RequestContext,
    Stage,
    TargetConfig,
    TestOutcome,
    TestReport,
    Verdict,
    decide,
    utcnow,
)

from .adapters.forge import FORGE_ERRORS, Forge, ForgeError, push
from .adapters.git import Git, GitError
from .adapters.signing import CommitSigner
from .adapters.style import find_tool, repository_tools, run_step
from .adapters.testrun import SandboxLimits, TestRun, TestRunner
from .adapters.workspace import Workspace, fix_branch, open_workspace, release_branch, resolve_base
from .domain.candidates import FixCandidate, best_candidate, diff_changes, diff_hash, diff_lines, diff_paths
from .domain.commit_message import TRAILER_EVENT, commit_message, one_line, sandbox_from_line
from .domain.errors import FixRefused, WorkspaceError
from .domain.failure import evidence_files, read_failure, request_from_evidence
from .domain.fixers.edits import TemplateEdit
from .domain.fixers.python import python_template_fixes
from .domain.fixers.typescript import typescript_template_fixes
from .domain.guard import GuardVerdict, PathGuard, PathRuling, final_diff_verdicts
from .domain.hunks import Hunk, hunks_patch, overlapping, parse_hunks, removed_guard
from .domain.regression import (
    RegressionTest,
    find_python_app,
    python_regression_test,
    reproduces,
    typescript_regression_test,
)
from .domain.strategy_stats import StrategyLearning
from .domain.style import StyleTool, formatting_kept, style_steps

__all__ = [
    "ApprovedFix",
    "Audit",
    "CandidateProposer",
    "FixOptions",
    "FixOutcome",
    "OutcomeKind",
    "guard_for",
    "implement_fix",
    "protected_writes",
]

log = logging.getLogger("medic.implementer")

_REVERT_STRATEGIES = (FixStrategy.REVERT_COMMIT, FixStrategy.PARTIAL_REVERT)

Audit = Callable[[str, ActionStatus, str, dict[str, Any]], None]
SideEffectCheck = Callable[[str], None]


class OutcomeKind(StrEnum):
    """How an implementation attempt ended."""

    COMMITTED = "committed"  # committed, pushed, pull request open
    NEEDS_APPROVAL = "needs_approval"  # a tested fix waits for a human (nothing committed)
    REFUSED = "refused"  # a hard rule forbids the write (protected path): a human must act
    BLOCKED = "blocked"  # policy blocks it now (kill switch, P4, paused)
    NO_FIX = "no_fix"  # no candidate passed the tests
    NEEDS_HUMAN = "needs_human"  # the diagnosis says this is not for an automatic fix


@dataclass(frozen=True)
class FixOutcome:
    """What :func:`implement_fix` did: a committed fix (FixCommitted fields) or why not."""

    kind: OutcomeKind
    reasons: tuple[str, ...] = ()
    issue_id: str = ""
    branch: str = ""
    base_sha: str = ""
    commit_sha: str | None = None
    files_changed: tuple[str, ...] = ()
    diff: str = ""
    diff_hash: str = ""
    strategy: FixStrategy = FixStrategy.NEEDS_HUMAN
    description: str = ""
    regression_test: str | None = None
    tests: TestReport | None = None
    pr_url: str | None = None
    pr_number: int | None = None
    signature: str = "unsigned"
    attempt: int = 1
    needs_approval: bool = False
    resumed: bool = False
    candidates: tuple[dict[str, Any], ...] = ()
    refusals: tuple[dict[str, str], ...] = ()
    decision: Decision | None = None  # the policy decision behind NEEDS_APPROVAL and BLOCKED

    def as_dict(self) -> dict[str, Any]:
        """The outcome as JSON-ready data (CLI, benchmarks)."""
        return {
            "kind": self.kind.value,
            "reasons": list(self.reasons),
            "issue_id": self.issue_id,
            "branch": self.branch,
            "base_sha": self.base_sha,
            "commit_sha": self.commit_sha,
            "files_changed": list(self.files_changed),
            "diff_hash": self.diff_hash,
            "strategy": self.strategy.value,
            "description": self.description,
            "regression_test": self.regression_test,
            "tests": self.tests.model_dump(mode="json") if self.tests else None,
            "pr_url": self.pr_url,
            "pr_number": self.pr_number,
            "signature": self.signature,
            "attempt": self.attempt,
            "needs_approval": self.needs_approval,
            "resumed": self.resumed,
            "candidates": [dict(c) for c in self.candidates],
            "refusals": [dict(r) for r in self.refusals],
            "diff": self.diff,
        }

    @property
    def committed(self) -> bool:
        """True when a fix commit exists and its pull request is open."""
        return self.kind is OutcomeKind.COMMITTED

    def fix_committed(self, diagnosis: DiagnosisReady, *, producer: Producer, repository: str) -> FixCommitted:
        """The FixCommitted event for a committed outcome."""
        if not self.committed or self.commit_sha is None or self.tests is None:
            raise ValueError(f"no commit to announce ({self.kind})")
        return diagnosis.follow_up(
            FixCommitted,
            producer=producer,
            issue=diagnosis.issue,
            repository=repository,
            branch=self.branch,
            base_sha=self.base_sha,
            commit_sha=self.commit_sha,
            files_changed=self.files_changed,
            diff=self.diff[:200_000],
            diff_hash=self.diff_hash,
            strategy=self.strategy,
            regression_test=self.regression_test,
            tests=self.tests,
            pr_url=self.pr_url,
            pr_number=self.pr_number,
            signature=self.signature,
            attempt=self.attempt,
            needs_approval=self.needs_approval,
            root_cause=diagnosis.root_cause,
        )


@dataclass(frozen=True)
class ApprovedFix:
    """A fix a human approved: the exact diff (bound by its hash) and what was known when it was asked."""

    diff: str
    diff_hash: str
    base_sha: str
    strategy: FixStrategy
    description: str
    tests: TestReport
    regression_test: str | None = None


class CandidateProposer(Protocol):
    """A fixer that edits the worktree itself (the Claude fixer): returns (files, description) or None."""

    async def propose(
        self,
        *,
        diagnosis: DiagnosisReady,
        workspace: Path,
        guard: PathGuard,
        run_tests: Callable[[], Awaitable[TestRun]],
        audit: Audit,
    ) -> tuple[tuple[str, ...], str, FixStrategy] | None: ...


@dataclass(frozen=True)
class FixOptions:
    """How fixes are made: where worktrees live, sandbox limits, signing, the optional LLM fixer."""

    workspace_root: Path
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    signer: CommitSigner = field(default_factory=lambda: CommitSigner(key=None))
    max_candidates: int = 4
    proposer: CandidateProposer | None = None
    push_attempts: int = 3
    push_backoff_s: float = 1.0
    labels: tuple[str, ...] = ("medic", "auto-fix")


def guard_for(target: TargetConfig, config: MedicConfig | None, root: Path) -> PathGuard:
    """The path guard for a target: Medic's (or the configuration's) lists plus the target's own globs."""
    base = config or MedicConfig()
    return PathGuard(
        root=root,
        protected=(*base.protected_paths, *target.protected_paths),
        approval=(*base.approval_paths, *target.approval_paths),
    )


async def protected_writes(
    *, repo: Path, base: str, head: str, target: TargetConfig, config: MedicConfig | None = None
) -> list[str]:
    """Files changed between ``base`` and ``head`` that the guard refuses (the benchmark's "protected paths untouched")."""
    git = Git(repo)
    guard = guard_for(target, config, repo)
    return list(dict.fromkeys(v.path for v in final_diff_verdicts(guard, await git.changes(base, head))))


# ---- helpers ------------------------------------------------------------------------------------


def _noop_audit(_action: str, _status: ActionStatus, _summary: str, _details: dict[str, Any]) -> None:
    return None


def _allow(_action: str) -> None:
    return None


async def _find_own_commit(git: Git, forge: Forge | None, *, branch: str, event_id: str) -> str | None:
    """The commit on the fix branch (local or forge) whose Medic-Event trailer is ``event_id``."""
    refs = [f"refs/heads/{branch}"]
    if forge is not None:
        try:
            remote_head = await forge.branch_head(branch=branch)
        except FORGE_ERRORS:
            remote_head = None
        if remote_head and await git.rev_parse(remote_head) is None:
            await git.run("fetch", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}", check=False)
        if remote_head and await git.rev_parse(remote_head):
            refs.append(remote_head)
    for ref in refs:
        if await git.rev_parse(ref) is None:
            continue
        log_out = await git.run(
            "log",
            "--max-count=50",
            f"--format=%H%x00%(trailers:key={TRAILER_EVENT},valueonly,separator=%x2C)%x1e",
            ref,
            check=False,
        )
        for record in log_out.stdout.split("\x1e"):
            sha, _, value = record.strip().partition("\0")
            if sha and event_id in [v.strip() for v in value.split(",")]:
                return sha
    return None


def _lines_to_try(diagnosis: DiagnosisReady) -> list[int]:
    rng = diagnosis.affected_lines
    if rng is None:
        return []
    last = max(rng.first, rng.last)
    # The diagnosed line first (SDKs report the failing line as the range's end as often as its start).
    ordered = [last, *range(rng.first, last)] if last - rng.first <= 40 else [last, rng.first]
    return list(dict.fromkeys(ordered))


def _template_edits(diagnosis: DiagnosisReady, text: str, path: str, language: str) -> list[TemplateEdit]:
    facts = read_failure(diagnosis)
    lines = _lines_to_try(diagnosis)
    if path.endswith(".py"):
        return python_template_fixes(path=path, text=text, lines=lines, facts=facts)
    if path.endswith((".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")) or language in ("typescript", "javascript"):
        return typescript_template_fixes(path=path, text=text, lines=lines, facts=facts)
    return []


async def _reset(ws: Workspace) -> None:
    await ws.git.run("reset", "--quiet", "--hard", ws.base_sha)
    await ws.git.run("clean", "-fdq")


async def _source_files(ws: Workspace, suffixes: tuple[str, ...], limit: int = 400) -> dict[str, str]:
    names = (await ws.git.run("ls-files", "-z")).stdout.split("\0")
    files: dict[str, str] = {}
    for name in names:
        if name.endswith(suffixes) and len(files) < limit:
            path = ws.path / name
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 200_000:
                files[name] = path.read_text(errors="replace")
    return files


async def _regression_test(
    ws: Workspace, diagnosis: DiagnosisReady, target: TargetConfig, request: RequestContext | None
) -> RegressionTest | None:
    if request is None or diagnosis.affected_file is None:
        return None
    affected = diagnosis.affected_file
    if affected.endswith(".py"):
        files = await _source_files(ws, (".py",))
        app = find_python_app(files)
        if app is None:
            return None
        test_dirs = sorted({str(Path(p).parent) for p in files if re.search(r"(^|/)test_[^/]*\.py$", p)}, key=len)
        return python_regression_test(
            issue_id=diagnosis.issue_id,
            title=diagnosis.issue.title,
            request=request,
            app=app,
            test_dir=test_dirs[0] if test_dirs else "tests",
        )
    route = ws.path / affected
    if not route.is_file():
        return None
    suffix = Path(affected).suffix
    slug = re.sub(r"[^A-Za-z0-9]+", "-", diagnosis.issue_id)[:30]
    names = (await ws.git.run("ls-files", "-z")).stdout.split("\0")
    existing = sorted(n for n in names if re.search(r"\.(test|spec)\.[cm]?[jt]sx?$", n))
    # Beside the project's own tests when it has some (their tsconfig/paths apply there), else beside the route.
    folder = Path(existing[0]).parent if existing else Path(affected).parent
    test_file = str(folder / f"medic-regression-{slug}.test{suffix}")
    package = next(
        (
            d
            for d in (folder, *folder.parents)
            if (ws.path / d / "package.json").is_file() or (ws.path / d / "tsconfig.json").is_file()
        ),
        None,
    )
    return typescript_regression_test(
        issue_id=diagnosis.issue_id,
        title=diagnosis.issue.title,
        request=request,
        route_file=affected,
        route_text=route.read_text(errors="replace"),
        test_command=target.test_command,
        test_file=test_file,
        package_dir="" if package is None or str(package) == "." else str(package),
    )


def _write(ws: Workspace, guard: PathGuard, path: str, text: str) -> None:
    target = guard.resolve(path)  # raises for refused paths: nothing is written
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


async def _final_guard(run: _Run, ws: Workspace, guard: PathGuard, origin: str, *, worktree: bool = False) -> list[GuardVerdict]:
    """Re-check what is staged (or, with ``worktree``, on disk) against the guard; audit and return each refusal."""
    refused = final_diff_verdicts(guard, await ws.git.changes(ws.base_sha, worktree=worktree))
    for verdict in refused:
        run.refuse(verdict.path, verdict.reason, origin)
    return refused


async def _refuse_on_protected_writes(run: _Run, ws: Workspace, guard: PathGuard, origin: str, *, worktree: bool) -> None:
    """Raise :class:`FixRefused` when the worktree or the index now holds a write the guard refuses."""
    refused = await _final_guard(run, ws, guard, origin, worktree=worktree)
    if refused:
        raise FixRefused("; ".join(f"{v.path}: {v.reason}" for v in refused), paths=tuple(v.path for v in refused))


async def _staged_diff(ws: Workspace, files: Sequence[str]) -> str:
    for path in files:
        # -A stages deletions too; a path a revert already removed from the index matches nothing, which is fine.
        await ws.git.run("add", "-A", "--", path, check=False)
    return (await ws.git.run("diff", "--cached", "--no-color", "--no-ext-diff", "--binary", ws.base_sha)).stdout


# ---- the pipeline -------------------------------------------------------------------------------


@dataclass
class _Run:
    diagnosis: DiagnosisReady
    target: TargetConfig
    options: FixOptions
    audit: Audit
    runner: TestRunner
    refusals: list[dict[str, str]] = field(default_factory=list)
    learning: StrategyLearning = field(default_factory=StrategyLearning)
    style_tools: tuple[StyleTool, ...] | None = None  # read from the checkout on first use
    style_found: dict[StyleTool, Path | None] = field(default_factory=dict)
    style_noted: set[str] = field(default_factory=set)

    def note_style(self, key: str, status: ActionStatus, summary: str, details: dict[str, Any]) -> None:
        """Audit a style event once per run (every candidate runs the same tools)."""
        if key not in self.style_noted:
            self.style_noted.add(key)
            self.audit("implementer.style", status, summary, details)

    def note_sandbox(self, result: TestRun) -> None:
        """Audit, once per run, that tests ran without the full sandbox (the release then needs a human)."""
        if not result.sandbox.sandboxed and "sandbox" not in self.style_noted:
            self.style_noted.add("sandbox")
            missing = list(result.sandbox.missing)
            summary = "tests ran without the full sandbox: the fix is released only with approval"
            self.audit("implementer.sandbox", ActionStatus.FAILED, summary, {"missing": missing})

    def refuse(self, path: str, reason: str, origin: str) -> None:
        self.refusals.append({"path": path, "reason": reason, "origin": origin})
        self.audit(
            "implementer.guard",
            ActionStatus.REFUSED,
            f"refused to write {one_line(path, limit=200)}: {reason}",
            {"path": path[:500], "reason": reason, "origin": origin},
        )


async def _validate(
    run: _Run,
    ws: Workspace,
    guard: PathGuard,
    *,
    files: tuple[str, ...],
    origin: str,
    strategy: FixStrategy,
    description: str,
    regression: RegressionTest | None,
    evidence: frozenset[str],
    preference: int = 0,
) -> FixCandidate | None:
    """Guard the files a candidate changed, add the regression test, run the tests, capture the diff."""
    for path in files:
        verdict = guard.check(path)
        if verdict.refused:
            run.refuse(path, verdict.reason, origin)
            return None
    if not files:
        return None
    try:
        return await _validate_inner(
            run,
            ws,
            guard,
            files=files,
            origin=origin,
            strategy=strategy,
            description=description,
            regression=regression,
            evidence=evidence,
            preference=preference,
        )
    except (GitError, OSError, ValueError) as exc:
        log.warning("candidate %s (%s) could not be validated: %s", strategy.value, origin, exc)
        return None


async def _validate_inner(
    run: _Run,
    ws: Workspace,
    guard: PathGuard,
    *,
    files: tuple[str, ...],
    origin: str,
    strategy: FixStrategy,
    description: str,
    regression: RegressionTest | None,
    evidence: frozenset[str],
    preference: int,
) -> FixCandidate | None:
    all_files = files
    styled = await _match_style(run, ws, files)
    result = await run.runner.run(run.target.test_command, cwd=ws.path)
    run.note_sandbox(result)
    # Code the fix does not control just ran: a protected file it rewrote refuses the whole fix.
    await _refuse_on_protected_writes(run, ws, guard, f"{origin} (tests)", worktree=True)
    reproduced = False
    if result.passed and regression is not None:
        # The regression test runs on its own: a broken generated test must not sink a good fix.
        _write(ws, guard, regression.path, regression.content)
        replay = await run.runner.run(regression.command, cwd=ws.path / regression.cwd)
        await _refuse_on_protected_writes(run, ws, guard, f"{origin} (regression test)", worktree=True)
        reproduced = replay.passed
        if reproduced:
            all_files = (*files, regression.path)
        else:
            (ws.path / regression.path).unlink(missing_ok=True)
    diff = await _staged_diff(ws, all_files) if result.passed else ""
    if diff:  # what git staged must be what the guard allowed: both sides, modes, links
        await _refuse_on_protected_writes(run, ws, guard, f"{origin} (staged)", worktree=False)
    return FixCandidate(
        strategy=strategy,
        origin=origin,
        description=description,
        files=all_files,
        diff=diff,
        tests=result.report,
        within_evidence=all(f in evidence for f in files),
        reproduced=reproduced,
        preference=preference,
        styled=styled,
    )


async def _match_style(run: _Run, ws: Workspace, files: tuple[str, ...]) -> tuple[str, ...]:
    """Run the repository's own formatters/linters on the changed files; the tools whose output was kept."""
    if run.style_tools is None:
        run.style_tools = repository_tools(ws.path)
    present = [f for f in files if (ws.path / f).is_file() and not (ws.path / f).is_symlink()]
    steps = style_steps(run.style_tools, present)
    if not steps:
        return ()
    fixed = {f: (ws.path / f).read_text(errors="replace") for f in present}
    tool_paths = run.options.limits.tool_paths
    ran: list[str] = []
    for step in steps:
        if step.tool not in run.style_found:
            run.style_found[step.tool] = find_tool(step.tool, ws.path, tool_paths)
        done = await run_step(run.runner, step, root=ws.path, tool_paths=tool_paths, located=run.style_found)
        if done.result is None:
            run.note_style(
                f"missing:{step.tool.value}",
                ActionStatus.SKIPPED,
                f"the repository declares {step.tool.executable} but it is not installed in the checkout: not run",
                {"tool": step.tool.value},
            )
            continue
        if done.result.timed_out or done.result.returncode is None:
            run.note_style(
                f"failed:{step.tool.value}",
                ActionStatus.FAILED,
                f"{step.tool.value} did not finish: {one_line(done.result.output[-300:])}",
                {"tool": step.tool.value, "output": done.result.output[-2000:]},
            )
            continue
        ran.append(step.tool.value)
        run.note_style(
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
            run.note_style(
                f"dropped:{name}",
                ActionStatus.SKIPPED,
                f"{', '.join(ran)} would rewrite lines of {one_line(name, limit=200)} the fix did not touch: formatting not kept",
                {"file": name[:500], "tools": ran},
            )
    return tuple(ran) if kept else ()


async def _revert_candidates(run: _Run, ws: Workspace) -> list[tuple[FixStrategy, str, Callable[[], Awaitable[tuple[str, ...]]]]]:
    suspect = run.diagnosis.suspect_commit
    if suspect is None:
        return []
    sha = await ws.git.rev_parse(suspect.sha)
    if sha is None or (await ws.git.run("merge-base", "--is-ancestor", sha, ws.base_sha, check=False)).returncode != 0:
        return []
    parents = (await ws.git.out("rev-list", "--parents", "-n", "1", sha)).split()[1:]
    mainline = ["-m", "1"] if len(parents) > 1 else []

    async def full() -> tuple[str, ...]:
        done = await ws.git.run("revert", "--no-commit", "--no-edit", *mainline, sha, check=False)
        if done.returncode != 0:
            await ws.git.run("revert", "--abort", check=False)
            return ()
        return tuple(dict.fromkeys(p for entry in await ws.git.changes(ws.base_sha) for p in entry.paths))

    async def partial() -> tuple[str, ...]:
        affected = run.diagnosis.affected_file
        if not affected or not parents:
            return ()
        patch = (await ws.git.run("diff", "--no-color", "--binary", parents[0], sha, "--", affected)).stdout
        if not patch.strip():
            return ()
        applied = await ws.git.run("apply", "--reverse", "--3way", "-", input_text=patch, check=False)
        return (affected,) if applied.returncode == 0 else ()

    affected = run.diagnosis.affected_file
    rng = run.diagnosis.affected_lines

    async def zero_context() -> tuple[list[str], list[Hunk]] | None:
        if not affected or not parents or rng is None:
            return None
        # Only when the file is as the suspect commit left it: hunk positions must still be true.
        if (await ws.git.run("diff", "--quiet", sha, ws.base_sha, "--", affected, check=False)).returncode != 0:
            return None
        patch = (await ws.git.run("diff", "--no-color", "-U0", parents[0], sha, "--", affected)).stdout
        return parse_hunks(patch) if patch.strip() else None

    async def restore_guard() -> tuple[str, ...]:
        parsed = await zero_context()
        if parsed is None or rng is None or affected is None:
            return ()
        _header, hunks = parsed
        for hunk in overlapping(hunks, rng.first, rng.last):
            block = removed_guard(hunk)
            if block is None:
                continue
            path = ws.path / affected
            lines = path.read_text().splitlines(keepends=True)
            at = hunk.new_start - 1 if hunk.new_len > 0 else hunk.new_start
            lines[at:at] = [line + "\n" for line in block]
            path.write_text("".join(lines))
            return (affected,)
        return ()

    async def revert_hunks() -> tuple[str, ...]:
        parsed = await zero_context()
        if parsed is None or rng is None or affected is None:
            return ()
        header, hunks = parsed
        chosen = overlapping(hunks, rng.first, rng.last)
        if not chosen or len(chosen) == len(hunks):
            return ()  # nothing to choose, or the same as reverting the file
        patch = hunks_patch(header, chosen)
        applied = await ws.git.run("apply", "--reverse", "--unidiff-zero", "-", input_text=patch, check=False)
        return (affected,) if applied.returncode == 0 else ()

    # Finest first: a removed guard put back, the hunks at the fault, the file, the whole commit.
    options: list[tuple[FixStrategy, str, Callable[[], Awaitable[tuple[str, ...]]]]] = []
    if affected:
        options += [
            (FixStrategy.PARTIAL_REVERT, f"restore the guard {sha[:12]} removed in {affected}", restore_guard),
            (FixStrategy.PARTIAL_REVERT, f"revert the hunks of {sha[:12]} at the fault in {affected}", revert_hunks),
            (FixStrategy.PARTIAL_REVERT, f"revert {sha[:12]} in {affected} only", partial),
        ]
    options.append((FixStrategy.REVERT_COMMIT, f"revert {sha[:12]} ({one_line(suspect.message, limit=80)})", full))
    return options


def candidate_passed_cleanly(candidates: list[FixCandidate], regression: RegressionTest | None) -> bool:
    """True when the last revert tried passed, inside the evidence, reproducing the failure when it could."""
    last = candidates[-1] if candidates else None
    return bool(
        last and last.origin == "revert" and last.passed and last.within_evidence and (last.reproduced or regression is None)
    )


def _unbeatable(
    candidate: FixCandidate, suggested: FixStrategy, regression: RegressionTest | None, learning: StrategyLearning
) -> bool:
    """True when no other candidate could rank higher (saves test runs): passing, not avoided, in the evidence,
    reproduced, suggested."""
    return (
        candidate.passed
        and not learning.avoided(candidate.strategy)
        and candidate.within_evidence
        and (candidate.reproduced or regression is None)
        and (candidate.strategy in _REVERT_STRATEGIES) == (suggested in _REVERT_STRATEGIES)
        and candidate.preference == 0
    )


async def _collect_candidates(run: _Run, ws: Workspace, guard: PathGuard) -> tuple[list[FixCandidate], RegressionTest | None]:
    diagnosis = run.diagnosis
    evidence = evidence_files(diagnosis)
    request = request_from_evidence(diagnosis)
    regression = await _regression_test(ws, diagnosis, run.target, request)
    if regression is not None:
        verdict = guard.check(regression.path)
        if verdict.refused:
            regression = None
        else:
            _write(ws, guard, regression.path, regression.content)
            before = await run.runner.run(regression.command, cwd=ws.path / regression.cwd)
            if (
                before.passed
                or before.report.outcome is TestOutcome.TIMED_OUT
                or not reproduces(before.output, title=diagnosis.issue.title)
            ):
                run.audit(
                    "implementer.regression_test",
                    ActionStatus.SKIPPED,
                    f"generated test {regression.path} does not reproduce the failure: not kept",
                    {"path": regression.path, "output": before.report.summary[-1000:]},
                )
                regression = None
            await _reset(ws)

    candidates: list[FixCandidate] = []
    affected = diagnosis.affected_file
    if affected:
        verdict = guard.check(affected)
        source = ws.path / affected
        if not verdict.refused and source.is_file():
            text = source.read_text(errors="replace")
            edits = _template_edits(diagnosis, text, affected, run.target.language)
            # Strategies that went wrong on a similar issue are tried last (stable: the fixer's order otherwise holds).
            edits = sorted(edits, key=lambda e: run.learning.avoided(e.strategy))[: run.options.max_candidates]
            for preference, edit in enumerate(edits):
                _write(ws, guard, edit.path, edit.new_text)
                candidate = await _validate(
                    run,
                    ws,
                    guard,
                    files=(edit.path,),
                    origin="template",
                    strategy=edit.strategy,
                    description=edit.description,
                    regression=regression,
                    evidence=evidence,
                    preference=preference,
                )
                await _reset(ws)
                if candidate:
                    candidates.append(candidate)
                if candidate and _unbeatable(candidate, diagnosis.fix_strategy, regression, run.learning):
                    break

    best_so_far = best_candidate(candidates, suggested=diagnosis.fix_strategy, learning=run.learning)
    reverts = (
        []
        if best_so_far and _unbeatable(best_so_far, diagnosis.fix_strategy, regression, run.learning)
        else await _revert_candidates(run, ws)
    )
    reverts = sorted(reverts, key=lambda r: run.learning.avoided(r[0]))
    for preference, (strategy, description, apply) in enumerate(reverts):
        try:
            files = await apply()
        except (GitError, OSError, UnicodeDecodeError) as exc:
            log.warning("revert candidate %r could not be made: %s", description, exc)
            files = ()
        if files:
            candidate = await _validate(
                run,
                ws,
                guard,
                files=files,
                origin="revert",
                strategy=strategy,
                description=description,
                regression=regression,
                evidence=evidence,
                preference=preference,
            )
            if candidate:
                candidates.append(candidate)
        await _reset(ws)
        if candidate_passed_cleanly(candidates, regression) and not run.learning.avoided(candidates[-1].strategy):
            break  # reverts are tried finest first: a passing one is not beaten by a coarser one

    good = best_candidate(candidates, suggested=diagnosis.fix_strategy, learning=run.learning)
    distrusted = good is not None and run.learning.avoided(good.strategy)
    if run.options.proposer is not None and (good is None or distrusted or diagnosis.fix_strategy is FixStrategy.LLM_EDIT):

        async def run_tests() -> TestRun:
            return await run.runner.run(run.target.test_command, cwd=ws.path)

        proposal = await run.options.proposer.propose(
            diagnosis=diagnosis, workspace=ws.path, guard=guard, run_tests=run_tests, audit=run.audit
        )
        if proposal is not None:
            files, description, strategy = proposal
            candidate = await _validate(
                run,
                ws,
                guard,
                files=files,
                origin="claude",
                strategy=strategy,
                description=description,
                regression=regression,
                evidence=evidence,
            )
            if candidate:
                candidates.append(candidate)
        await _reset(ws)
    return candidates, regression


def _outcome_base(diagnosis: DiagnosisReady, branch: str, attempt: int) -> dict[str, Any]:
    return {"issue_id": diagnosis.issue_id, "branch": branch, "attempt": attempt}


def _summaries(candidates: list[FixCandidate], learning: StrategyLearning | None = None) -> tuple[dict[str, Any], ...]:
    learning = learning or StrategyLearning()
    return tuple(
        {
            "strategy": c.strategy.value,
            "origin": c.origin,
            "description": c.description[:300],
            "files": list(c.files),
            "tests": c.tests.outcome.value,
            "test_summary": c.tests.summary[-1500:],
            "diff_lines": c.size,
            "within_evidence": c.within_evidence,
            "reproduced": c.reproduced,
            "avoided": learning.avoided(c.strategy),
            "styled": list(c.styled),
        }
        for c in candidates
    )


async def _apply(ws: Workspace, diff: str) -> None:
    applied = await ws.git.run("apply", "--index", "--whitespace=nowarn", "-", input_text=diff, check=False)
    if applied.returncode != 0:
        raise WorkspaceError(f"the fix diff no longer applies: {applied.stderr.strip()[:300]}")


async def _commit(
    run: _Run,
    ws: Workspace,
    *,
    diff: str,
    strategy: FixStrategy,
    description: str,
    tests: TestReport,
    regression_test: str | None,
    attempt: int,
) -> str:
    hashed = diff_hash(diff)
    message = commit_message(
        diagnosis=run.diagnosis,
        summary=f"{description.split(':', maxsplit=1)[0]} in {run.diagnosis.affected_file or 'the code'}",
        fix_description=description,
        changes=diff_changes(diff),
        tests=tests,
        regression_test=regression_test,
        diff_hash=hashed,
        strategy=strategy.value,
        attempt=attempt,
    )
    signer = run.options.signer
    sign = ["-S"] if signer.key is not None else []
    env_config = {**signer.sign_config(), "user.email": signer.committer_email, "user.name": "Medic"}
    await ws.git.run("commit", "--quiet", "--no-verify", *sign, "-F", "-", input_text=message, config=env_config)
    return await ws.git.out("rev-parse", "HEAD")


async def _deliver(
    run: _Run, git: Git, forge: Forge | None, *, branch: str, title: str, body: str, before: SideEffectCheck
) -> tuple[str | None, int | None]:
    """Push the branch and find-or-open its pull request; push failures retry without advancing."""
    if forge is None:
        return None, None
    before("git.push")
    last: Exception | None = None
    retryable: tuple[type[Exception], ...] = (*FORGE_ERRORS, GitError, OSError)
    for attempt in range(run.options.push_attempts):
        try:
            await push(forge, clone=git.cwd, branch=branch)
            break
        except retryable as exc:
            last = exc
            await asyncio.sleep(run.options.push_backoff_s * (2**attempt))
    else:
        raise ForgeError(f"push of {branch} failed after {run.options.push_attempts} attempts: {last}")
    before("forge.pull_request")
    pr = await forge.open_pull_request(
        head=branch, base=run.target.staging_branch, title=title, body=body, labels=run.options.labels
    )
    return getattr(pr, "url", None), getattr(pr, "number", None)


def _pr_body(
    diagnosis: DiagnosisReady, *, description: str, diff: str, tests: TestReport, regression_test: str | None, risk: str
) -> str:
    changes = "\n".join(
        f"- `{one_line(f'{c.old_path} -> {c.path}' if c.old_path else c.path, limit=500)}` (+{c.added}/-{c.removed})"
        for c in diff_changes(diff)
    )
    where = diagnosis.affected_file or "unknown"
    if diagnosis.affected_lines:
        where += f":{diagnosis.affected_lines.first}-{diagnosis.affected_lines.last}"
    return (
        f"## Root cause\n{one_line(diagnosis.root_cause, limit=2000)}\n\n"
        f"**Issue:** {one_line(diagnosis.issue.title)} ({diagnosis.issue.severity.value}, "
        f"{diagnosis.issue.affected_users} users affected)  \n**Affected:** `{one_line(where)}`\n\n"
        f"## Fix\n{one_line(description, limit=500)}\n\n## Diff summary\n{changes}\n\n"
        f"## Tests\n`{one_line(tests.command)}`: **{tests.outcome.value}** ({tests.passed} passed, {tests.failed} failed)"
        + (f"\nRegression test: `{regression_test}`" if regression_test else "")
        + f"\n\n## Risk\n{risk}\n\n---\nAuto-fixed by Medic · Issue ID `{one_line(diagnosis.issue_id)}`\n"
    )


def _risk(diff: str, within_evidence: bool, strategy: FixStrategy) -> str:
    size = diff_lines(diff)
    level = "low" if size <= 20 and within_evidence else "medium" if size <= 100 else "high"
    return f"{level}: {size} changed lines, {strategy.value.replace('_', ' ')}" + (
        "" if within_evidence else ", touches files outside the evidence"
    )


async def _resume(
    run: _Run, git: Git, forge: Forge | None, sha: str, *, branch: str, attempt: int, before: SideEffectCheck
) -> FixOutcome:
    """Re-deliver a fix already committed for this event (redelivery, crash after commit or push)."""
    parents = (await git.out("rev-list", "--parents", "-n", "1", sha)).split()
    base = parents[1] if len(parents) > 1 else sha
    diff = (await git.run("diff", "--no-color", "--no-ext-diff", "--binary", base, sha)).stdout
    message = await git.out("log", "-1", "--format=%B", sha)
    strategy_match = re.search(r"^Medic-Strategy: (\S+)$", message, re.M)
    try:
        strategy = FixStrategy(strategy_match.group(1)) if strategy_match else FixStrategy.LLM_EDIT
    except ValueError:
        strategy = FixStrategy.LLM_EDIT
    tests_match = re.search(r"^Tests: (.*): passed(?: \((\d+) passed, (\d+) failed\))?$", message, re.M)
    sandbox_match = re.search(r"^Sandbox: (.*)$", message, re.M)
    sandboxed, sandbox_missing = sandbox_from_line(sandbox_match.group(1) if sandbox_match else None)
    tests = TestReport(
        command=tests_match.group(1) if tests_match else run.target.test_command,
        outcome=TestOutcome.PASSED,
        passed=int(tests_match.group(2) or 0) if tests_match else 0,
        failed=int(tests_match.group(3) or 0) if tests_match else 0,
        summary="tests passed before this commit was made",
        sandboxed=sandboxed,
        sandbox_missing=sandbox_missing,
    )
    regression_match = re.search(r"^Regression test: (.+)$", message, re.M)
    fix_match = re.search(r"^Fix: (.+)$", message, re.M)
    description = fix_match.group(1) if fix_match else strategy.value
    # A crash after the commit can leave its worktree behind with the branch checked out: remove it first.
    await release_branch(repo=git.cwd, root=run.options.workspace_root, branch=branch)
    if await git.rev_parse(f"refs/heads/{branch}") != sha:
        await git.run("branch", "--quiet", "-f", branch, sha)  # the local branch may be missing after a crash
    pr_url, pr_number = await _deliver(
        run,
        git,
        forge,
        branch=branch,
        title=f"fix: {one_line(run.diagnosis.issue.title, limit=80)}",
        body=_pr_body(
            run.diagnosis,
            description=description,
            diff=diff,
            tests=tests,
            regression_test=regression_match.group(1) if regression_match else None,
            risk=_risk(diff, True, strategy),
        ),
        before=before,
    )
    return FixOutcome(
        kind=OutcomeKind.COMMITTED,
        reasons=("resumed: this event's commit already exists",),
        **_outcome_base(run.diagnosis, branch, attempt),
        base_sha=base,
        commit_sha=sha,
        files_changed=tuple(c.path for c in diff_changes(diff)),
        diff=diff,
        diff_hash=diff_hash(diff),
        strategy=strategy,
        description=description,
        regression_test=regression_match.group(1) if regression_match else None,
        tests=tests,
        pr_url=pr_url,
        pr_number=pr_number,
        signature=await run.options.signer.verify(git, sha),
        resumed=True,
    )


async def implement_fix(
    diagnosis: DiagnosisReady,
    *,
    target: TargetConfig,
    repo: Path,
    options: FixOptions,
    config: MedicConfig | None = None,
    forge: Forge | None = None,
    request: RequestContext | None = None,
    approved: ApprovedFix | None = None,
    attempt: int = 1,
    paused: bool = False,
    before_side_effect: SideEffectCheck = _allow,
    audit: Audit = _noop_audit,
    now: datetime | None = None,
    learning: StrategyLearning | None = None,
) -> FixOutcome:
    """Make, validate, guard, commit and deliver a fix for ``diagnosis`` (see the module docstring).

    ``config`` is the Medic configuration policy is evaluated with (default: Medic's defaults);
    ``request`` the failing request when the caller has it (else taken from ``request`` evidence);
    ``approved`` a fix a human approved, applied instead of searching again; ``before_side_effect``
    raises to refuse a commit or push (the service's pause gate); ``learning`` what past fixes of
    similar issues teach (strategies to try last, per-strategy confidence).
    """
    config = config if config is not None else MedicConfig()
    runner = TestRunner(options.limits)
    run = _Run(
        diagnosis=diagnosis, target=target, options=options, audit=audit, runner=runner, learning=learning or StrategyLearning()
    )
    git = Git(repo)
    branch = fix_branch(diagnosis.issue_id)
    base_fields = _outcome_base(diagnosis, branch, attempt)
    if request is not None:
        ev = (Evidence(kind="request", summary="failing request", detail=request.model_dump_json()), *diagnosis.evidence)
        diagnosis = diagnosis.model_copy(update={"evidence": ev})
        run.diagnosis = diagnosis

    existing = await _find_own_commit(git, forge, branch=branch, event_id=diagnosis.event_id)
    if existing is not None:
        return await _resume(run, git, forge, existing, branch=branch, attempt=attempt, before=before_side_effect)

    if (
        approved is None
        and (diagnosis.needs_human or diagnosis.fix_strategy is FixStrategy.NEEDS_HUMAN)
        and options.proposer is None
    ):
        return FixOutcome(kind=OutcomeKind.NEEDS_HUMAN, reasons=("the diagnosis asks for a human",), **base_fields)

    guard_root = repo
    guard = guard_for(target, config, guard_root)
    if diagnosis.affected_file is not None:
        verdict = guard.check(diagnosis.affected_file)
        if verdict.refused:
            run.refuse(diagnosis.affected_file, verdict.reason, "diagnosis")
            return FixOutcome(
                kind=OutcomeKind.REFUSED,
                reasons=(f"{diagnosis.affected_file}: {verdict.reason}; a human must make this change",),
                refusals=tuple(run.refusals),
                **base_fields,
            )

    base = (
        approved.base_sha
        if approved
        else await resolve_base(git, commit_sha=diagnosis.issue.commit_sha, default_branch=target.default_branch)
    )
    async with open_workspace(
        repo=repo, root=options.workspace_root, issue_id=diagnosis.issue_id, base_sha=base, attempt=attempt
    ) as ws:
        guard = guard_for(target, config, ws.path)
        if target.setup_command:
            setup = await TestRunner(replace(options.limits, isolate_network=False)).run(target.setup_command, cwd=ws.path)
            if not setup.passed:
                return FixOutcome(
                    kind=OutcomeKind.NO_FIX,
                    reasons=(f"setup command failed: {setup.report.summary[-500:]}",),
                    base_sha=base,
                    **base_fields,
                )

        if approved is not None:
            if diff_hash(approved.diff) != approved.diff_hash:
                return FixOutcome(
                    kind=OutcomeKind.REFUSED, reasons=("approved diff does not match its hash",), base_sha=base, **base_fields
                )
            files = diff_paths(approved.diff)
            for path in files:
                verdict = guard.check(path)
                if verdict.refused:
                    run.refuse(path, verdict.reason, "approved")
                    return FixOutcome(
                        kind=OutcomeKind.REFUSED,
                        reasons=(f"{path}: {verdict.reason}",),
                        refusals=tuple(run.refusals),
                        base_sha=base,
                        **base_fields,
                    )
            chosen_diff, strategy, description = approved.diff, approved.strategy, approved.description
            tests, regression_path, within = approved.tests, approved.regression_test, True
            needs_approval, candidates = True, list[FixCandidate]()
        else:
            try:
                candidates, regression = await _collect_candidates(run, ws, guard)
            except FixRefused as tampered:  # already audited, path by path
                await _reset(ws)
                return FixOutcome(
                    kind=OutcomeKind.REFUSED,
                    reasons=(f"a protected path was written: {tampered.reason}"[:2000],),
                    base_sha=base,
                    refusals=tuple(run.refusals),
                    **base_fields,
                )
            best = best_candidate(candidates, suggested=diagnosis.fix_strategy, learning=run.learning)
            if best is None:
                reasons = ("no candidate fix passed the tests",) if candidates else ("no candidate fix could be made",)
                return FixOutcome(
                    kind=OutcomeKind.NO_FIX,
                    reasons=reasons,
                    base_sha=base,
                    candidates=_summaries(candidates, run.learning),
                    refusals=tuple(run.refusals),
                    **base_fields,
                )
            chosen_diff, strategy, description, tests = best.diff, best.strategy, best.description, best.tests
            regression_path = regression.path if regression is not None and best.reproduced else None
            within = best.within_evidence
            files = diff_paths(chosen_diff)
            verdicts = guard.check_all(files)
            refused = [v for v in verdicts if v.refused]
            if refused:  # a refused path in the chosen diff refuses the fix; it is never only "needs approval"
                for verdict in refused:
                    run.refuse(verdict.path, verdict.reason, "chosen diff")
                return FixOutcome(
                    kind=OutcomeKind.REFUSED,
                    reasons=tuple(f"{v.path}: {v.reason}" for v in refused),
                    base_sha=base,
                    refusals=tuple(run.refusals),
                    **base_fields,
                )
            decision = decide(
                config,
                PolicyFacts(
                    issue=diagnosis.issue,
                    stage=Stage.FIX,
                    now=now or utcnow(),
                    paused=paused,
                    diff_lines=diff_lines(chosen_diff),
                    touches_approval_paths=any(v.ruling is PathRuling.NEEDS_APPROVAL for v in verdicts),
                    outside_evidence=not within,
                ),
            )
            needs_approval = False
            common: dict[str, Any] = {
                "base_sha": base,
                "files_changed": files,
                "diff": chosen_diff,
                "diff_hash": diff_hash(chosen_diff),
                "strategy": strategy,
                "description": description,
                "regression_test": regression_path,
                "tests": tests,
                "candidates": _summaries(candidates, run.learning),
                "refusals": tuple(run.refusals),
            }
            if decision.verdict is Verdict.NEEDS_APPROVAL:
                return FixOutcome(
                    kind=OutcomeKind.NEEDS_APPROVAL,
                    reasons=(decision.reason,),
                    needs_approval=True,
                    decision=decision,
                    **common,
                    **base_fields,
                )
            if decision.verdict is Verdict.BLOCKED:
                return FixOutcome(
                    kind=OutcomeKind.BLOCKED, reasons=(decision.reason,), decision=decision, **common, **base_fields
                )

        before_side_effect("git.commit")
        await _reset(ws)
        await _apply(ws, chosen_diff)
        # The last word: exactly what is about to be committed, read from the index (renames, modes, links).
        violations = await _final_guard(run, ws, guard, "final diff")
        if violations:
            await _reset(ws)
            return FixOutcome(
                kind=OutcomeKind.REFUSED,
                reasons=tuple(f"{v.path}: {v.reason}" for v in violations),
                base_sha=base,
                diff=chosen_diff,
                diff_hash=diff_hash(chosen_diff),
                refusals=tuple(run.refusals),
                **base_fields,
            )
        sha = await _commit(
            run,
            ws,
            diff=chosen_diff,
            strategy=strategy,
            description=description,
            tests=tests,
            regression_test=regression_path,
            attempt=attempt,
        )
    signature = await options.signer.verify(git, sha)
    pr_url, pr_number = await _deliver(
        run,
        git,
        forge,
        branch=branch,
        title=f"fix: {one_line(diagnosis.issue.title, limit=80)}",
        body=_pr_body(
            diagnosis,
            description=description,
            diff=chosen_diff,
            tests=tests,
            regression_test=regression_path,
            risk=_risk(chosen_diff, within, strategy),
        ),
        before=before_side_effect,
    )
    return FixOutcome(
        kind=OutcomeKind.COMMITTED,
        reasons=("approved by a human",) if needs_approval else ("fix within policy",),
        base_sha=base,
        commit_sha=sha,
        files_changed=files,
        diff=chosen_diff,
        diff_hash=diff_hash(chosen_diff),
        strategy=strategy,
        description=description,
        regression_test=regression_path,
        tests=tests,
        pr_url=pr_url,
        pr_number=pr_number,
        signature=signature,
        needs_approval=needs_approval,
        candidates=_summaries(candidates, run.learning),
        refusals=tuple(run.refusals),
        **base_fields,
    )
