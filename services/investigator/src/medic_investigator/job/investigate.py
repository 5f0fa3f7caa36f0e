"""Gather the facts about an issue from the checkout: frames, culprit, callees, history and flags.

Runs the steps in order (``frames`` → ``culprit`` → ``callees`` → ``history``) and turns what they
find into evidence; the injection and protected-path verdicts come from ``domain``.
"""

from __future__ import annotations

import json
from datetime import timedelta

from medic_contracts import Evidence, IssueDetected, MedicConfig, StackFrame, TargetConfig
from medic_runtime import Redactor
from medic_stacktrace import RepoFrame, RepoPathResolver, repo_frames

from ..adapters.repo import Repository
from ..domain.code import CodeContext
from ..domain.diagnosis import Investigation, OriginSummary, SuspectSummary
from ..domain.safety import protected_evidence, protected_globs, protected_match
from ..domain.untrusted import find_injection
from .callees import callee_behaviour
from .culprit import read_contexts
from .frames import issue_frames, source_mapped
from .history import suspect_commit
from .origin import value_origin

__all__ = ["investigate"]


async def investigate(
    issue: IssueDetected,
    *,
    target: TargetConfig,
    repo: Repository,
    redactor: Redactor | None = None,
    config: MedicConfig | None = None,
    history_window: timedelta = timedelta(days=3),
) -> Investigation:
    """Gather the facts about ``issue`` from the checkout: culprit, code context, callees, history, flags."""
    redactor = redactor or Redactor()
    resolver = RepoPathResolver(await repo.files(), target.path_prefixes)
    frames = source_mapped(
        issue_frames(issue),
        repo=repo,
        resolver=resolver,
        prefixes=target.path_prefixes,
        build_roots=target.source_map_paths(),
    )
    candidates = repo_frames(frames, resolver)
    evidence: list[Evidence] = list(find_injection(_telemetry(issue, frames), source="telemetry"))
    contexts = read_contexts(repo, candidates)
    culprit = contexts[0] if contexts else None
    callee: dict[str, str] = {}
    related: list[str] = []
    suspect: SuspectSummary | None = None
    origin: OriginSummary | None = None
    protected = False
    if culprit is not None:
        frame = candidates[0].frame
        evidence.insert(0, _frame_evidence("deepest", culprit, f"{frame.file}:{frame.line}", redactor))
        # The application frames that called into the crash are in the failing path too.
        evidence += [_frame_evidence("calling", caller, f"{caller.file}:{caller.line}", redactor) for caller in contexts[1:]]
        called = _called_frame(candidates, culprit)
        if called is not None:  # the culprit function's arguments, for the implementer's reproducer (redacted by the watcher)
            evidence.append(
                Evidence(
                    kind="frame",
                    summary=f"local variables of {_function_name(culprit)} at the crash",
                    detail=called.model_dump_json(include={"file", "function", "line", "vars"})[:4000],
                    source=f"{called.file}:{called.line}",
                )
            )
        callee, related = await callee_behaviour(repo, culprit)
        for name, why in callee.items():
            evidence.append(
                Evidence(kind="code", summary=f"{name} can return nothing", detail=why[:500], source=why.split(": ", 1)[0])
            )
        suspect = await suspect_commit(repo, issue, culprit, window=history_window)
        if suspect is not None:
            evidence.append(_blame_evidence(suspect, culprit, redactor))
        origin = await value_origin(repo, issue, culprit, callee, window=history_window)
        if origin is not None:
            evidence.append(_origin_evidence(origin, redactor))
        matched = protected_match(culprit.file, protected_globs(target, config))
        if matched:
            protected = True
            evidence.append(protected_evidence(culprit.file, matched, source=matched))
    if issue.request is not None and (issue.request.url or issue.request.route):
        # The failing request, for the implementer's reproducing test (already redacted by the watcher).
        evidence.append(
            Evidence(
                kind="request",
                summary=f"failing request: {issue.request.method or '?'} {issue.request.route or issue.request.url}"[:300],
                detail=issue.request.model_dump_json(exclude_none=True)[:4000],
                source=issue.source,
            )
        )
    for passing in issue.passing_requests:
        # Recent answers of the same route that did not fail: the implementer replays them before and after a fix.
        evidence.append(
            Evidence(
                kind="passing_request",
                summary=f"non-failing request: {passing.method or '?'} {passing.route or passing.url}"[:300],
                detail=passing.model_dump_json(exclude_none=True)[:4000],
                source=issue.source,
            )
        )
    language = culprit.language if culprit else target.language
    return Investigation(
        title=issue.title,
        message=issue.message,
        exception=issue.exception,
        frames=frames,
        first_seen=issue.first_seen,
        language=language,
        context=culprit,
        other_frames=tuple(contexts[1:]),
        suspect=suspect,
        callee_may_return_none=callee,
        related=tuple(related),
        evidence=tuple(evidence),
        protected=protected,
        origin=origin,
        route=(
            f"{issue.request.method or ''} {issue.request.route or issue.request.url or ''}".strip() if issue.request else None
        ),
    )


def _frame_evidence(which: str, ctx: CodeContext, source: str, redactor: Redactor) -> Evidence:
    return Evidence(
        kind="stack_frame",
        summary=f"{which} application frame: {ctx.file}:{ctx.line} in {_function_name(ctx)}",
        detail=redactor.text(ctx.statement, max_length=500),
        source=source,
    )


def _telemetry(issue: IssueDetected, frames: tuple[StackFrame, ...]) -> str:
    """Every untrusted text of the issue, where injected instructions would hide."""
    texts = [issue.title, issue.message, issue.exception.value if issue.exception else "", issue.raw_trace or ""]
    texts += [json.dumps(f.vars) for f in frames if f.vars]
    if issue.request is not None:
        texts += [issue.request.url or "", issue.request.body or "", issue.request.query or ""]
    return "\n".join(texts)


def _called_frame(candidates: list[RepoFrame], culprit: CodeContext) -> StackFrame | None:
    """The frame whose variables hold the culprit function's arguments: the crashing frame, unless that is a
    comprehension, generator expression or lambda inside it (``<genexpr>``: its locals are the loop's, not the
    call's); then the innermost frame of the enclosing function in the same file. None without variables."""
    crash = candidates[0].frame
    name = culprit.function.name if culprit.function else None
    if crash.vars and (name is None or (crash.function or "").rsplit(".", 1)[-1] == name):
        return crash
    for candidate in candidates[1:]:
        frame = candidate.frame
        if frame.vars and frame.file == crash.file and (frame.function or "").rsplit(".", 1)[-1] == name:
            return frame
    return crash if crash.vars else None


def _function_name(ctx: CodeContext) -> str:
    return ctx.function.name if ctx.function else "module code"


def _blame_evidence(suspect: SuspectSummary, culprit: CodeContext, redactor: Redactor) -> Evidence:
    return Evidence(
        kind="git_blame",
        summary=(
            f'fault lines last changed by {suspect.sha[:12]} "{suspect.subject[:100]}" '
            f"on {suspect.date:%Y-%m-%d %H:%M}"
            + (" — shortly before the issue was first seen" if suspect.landed_before_first_seen else "")
        ),
        detail=redactor.text(suspect.diff, max_length=1500) or None,
        source=f"{culprit.file}:{culprit.statement_first}-{culprit.statement_last}",
    )


def _origin_evidence(origin: OriginSummary, redactor: Redactor) -> Evidence:
    commit = origin.commit
    return Evidence(
        kind="git_blame",
        summary=(
            f"`{origin.callee}` ({origin.file}:{origin.line}) can return nothing since {commit.sha[:12]} "
            f'"{commit.subject[:100]}" on {commit.date:%Y-%m-%d %H:%M}'
        ),
        detail=redactor.text(commit.diff, max_length=1500) or None,
        source=f"{origin.file}:{origin.first}-{origin.last}",
    )
