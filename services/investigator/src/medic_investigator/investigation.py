"""Investigate an issue in a repository checkout and produce its DiagnosisReady.

:func:`investigate` gathers the facts (culprit frame, code context, callee behaviour, change
history, injection flags); :func:`diagnose_issue` asks a provider, applies memory and the
safety rules (protected culprit files, low fixability → a human), and builds the event. Both run
in-process, so the service worker, the CLI and the benchmark share them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePosixPath

from medic_contracts import (
    ALWAYS_PROTECTED_PATHS,
    DiagnosisReady,
    Evidence,
    FixStrategy,
    IssueDetected,
    LineRange,
    LlmBudget,
    MedicConfig,
    Producer,
    StackFrame,
    SuspectCommit,
    TargetConfig,
)
from medic_runtime import Redactor
from medic_stacktrace import parse_trace

from .adapters.history import History, read_history
from .adapters.repo import Repository
from .adapters.store import CaseMemory
from .domain.code import LOOKUP_CALL, CodeContext
from .domain.culprit import CandidateFrame, RepoIndex, choose_culprits, compiled_source_guess, map_to_repo
from .domain.diagnosis import Diagnosis, Investigation, SuspectSummary
from .domain.errors import BudgetExceeded, ProviderRefused
from .domain.memory import PastCase, adjust_with_memory, signature_tokens
from .domain.playbook import playbook_diagnose
from .domain.python_code import python_context
from .domain.sourcemap import SourceMap, SourceMapError
from .domain.sql_guard import QueryAttempt
from .domain.traces import frames_from_text
from .domain.typescript_code import typescript_context
from .domain.untrusted import find_injection, glob_match
from .llm.claude import InvalidAnswer
from .providers import DiagnosisProvider

__all__ = ["DiagnosisOutcome", "code_context", "diagnose_issue", "investigate", "run_diagnosis"]

log = logging.getLogger("medic.investigator")

_TS_EXT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
_MAYBE_NOTHING = re.compile(
    r"(?:\breturn\s+None\b|\breturn\s*$|\breturn\s+null\b|\breturn\s+undefined\b|->\s*Optional\[|->\s*[\w\[\], .]*\|\s*None|"
    r"\|\s*null\b|\|\s*undefined\b|\?\?\s*null|\bor\s+None\b)"
)
_INVESTIGATOR = Producer(service="investigator", instance="in-process")


def code_context(source: str, *, file: str, line: int) -> CodeContext:
    """The code context of ``line`` in ``file`` by its language (Python ``ast`` or tree-sitter)."""
    if file.endswith(_TS_EXT):
        return typescript_context(source, file=file, line=line)
    return python_context(source, file=file, line=line)


async def _source_mapped(
    frames: tuple[StackFrame, ...], repo: Repository, index: RepoIndex, prefixes: dict[str, str]
) -> tuple[StackFrame, ...]:
    """Frames in compiled JavaScript moved to the original TypeScript line (source map, else a path guess)."""
    out = []
    for frame in frames:
        mapped = map_to_repo(frame.file, index=index, prefixes=prefixes)
        target = mapped or frame.file
        if not target.endswith((".js", ".mjs", ".cjs")) or frame.line is None:
            out.append(frame)
            continue
        original: StackFrame | None = None
        map_path = f"{mapped}.map" if mapped else None
        if mapped and not repo.is_file(map_path or ""):
            try:
                tail = repo.lines(mapped)[-1:]
            except (OSError, ValueError):
                tail = []
            if tail and "sourceMappingURL=" in tail[0] and not tail[0].split("sourceMappingURL=")[1].startswith("data:"):
                map_path = str(PurePosixPath(mapped).parent / tail[0].split("sourceMappingURL=")[1].strip())
        if mapped and map_path and repo.is_file(map_path):
            try:
                position = SourceMap(repo.read_text(map_path, max_bytes=20 * 1024 * 1024)).original(
                    frame.line, (frame.column - 1) if frame.column else None
                )
            except SourceMapError as exc:
                log.info("unreadable source map %s: %s", map_path, exc)
                position = None
            if position is not None:
                source = str(PurePosixPath(map_path).parent / re.sub(r"^(?:webpack://[^/]*/|\./)", "", position.source))
                source = _normpath(source)
                if source in index.files:
                    original = frame.model_copy(update={"file": source, "line": position.line, "column": position.column + 1})
        if original is None and mapped is None:
            guess = compiled_source_guess(frame.file, index=index)
            if guess is not None:
                original = frame.model_copy(update={"file": guess})
        out.append(original or frame)
    return tuple(out)


def _normpath(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


async def _callee_behaviour(repo: Repository, ctx: CodeContext) -> tuple[dict[str, str], list[str]]:
    """For functions whose results the fault uses: can they return nothing? (evidence lines) and related hits."""
    found: dict[str, str] = {}
    related: list[str] = []
    names = {b.calls for b in ctx.bindings if b.calls and not b.may_be_missing}
    for name in sorted(n for n in names if n and re.fullmatch(r"[A-Za-z_$][\w$]*", n)):
        patterns = [f"def {name}(", f"function {name}(", f"{name} = (", f"{name} = async (", f"async {name}(", f"const {name} ="]
        for pattern in patterns:
            hits = await repo.grep(pattern, max_hits=5)
            for hit in hits:
                related.append(f"{hit.file}:{hit.line}: {hit.text.strip()[:200]}")
                try:
                    source = repo.read_text(hit.file)
                except (OSError, ValueError):
                    continue
                callee = code_context(source, file=hit.file, line=hit.line + 1)
                lines = source.splitlines()
                if callee.function is None:
                    continue
                first, last = callee.function.first, min(callee.function.last, callee.function.first + 80)
                for number in range(first, last + 1):
                    text = lines[number - 1]
                    if _MAYBE_NOTHING.search(text) or LOOKUP_CALL.search(text):
                        found[name] = f"{hit.file}:{number}: {text.strip()[:200]}"
                        break
                if name in found:
                    break
            if name in found:
                break
    return found, related[:10]


def _protected_globs(target: TargetConfig, config: MedicConfig | None) -> tuple[str, ...]:
    base = config.protected_paths if config is not None else MedicConfig().protected_paths
    return (*base, *target.protected_paths, *ALWAYS_PROTECTED_PATHS)


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
    frames = issue.frames
    if not frames and issue.raw_trace:
        frames = _parse_trace(issue.raw_trace, issue)
    files = await repo.files()
    index = RepoIndex(files)
    frames = await _source_mapped(frames, repo, index, target.path_prefixes)
    candidates = choose_culprits(frames, index=index, prefixes=target.path_prefixes)
    evidence: list[Evidence] = []
    texts = [issue.title, issue.message, issue.exception.value if issue.exception else "", issue.raw_trace or ""]
    texts += [json.dumps(f.vars) for f in frames if f.vars]
    if issue.request is not None:
        texts += [issue.request.url or "", issue.request.body or "", issue.request.query or ""]
    for item in find_injection("\n".join(texts), source="telemetry"):
        evidence.append(item)
    contexts: list[CodeContext] = []
    for candidate in candidates[:3]:
        ctx = _read_context(repo, candidate)
        if ctx is not None:
            contexts.append(ctx)
    culprit = contexts[0] if contexts else None
    callee: dict[str, str] = {}
    related: list[str] = []
    suspect: SuspectSummary | None = None
    protected = False
    if culprit is not None:
        frame = candidates[0].frame
        evidence.insert(
            0,
            Evidence(
                kind="stack_frame",
                summary=f"deepest application frame: {culprit.file}:{culprit.line} in {_function_name(culprit)}",
                detail=redactor.text(culprit.statement, max_length=500),
                source=f"{frame.file}:{frame.line}",
            ),
        )
        if frame.vars:  # the crashing frame's arguments, for the implementer's reproducer (redacted by the watcher)
            evidence.append(
                Evidence(
                    kind="frame",
                    summary=f"local variables of {_function_name(culprit)} at the crash",
                    detail=frame.model_dump_json(include={"file", "function", "line", "vars"})[:4000],
                    source=f"{frame.file}:{frame.line}",
                )
            )
        callee, related = await _callee_behaviour(repo, culprit)
        for name, why in callee.items():
            evidence.append(
                Evidence(kind="code", summary=f"{name} can return nothing", detail=why[:500], source=why.split(": ", 1)[0])
            )
        binding_lines = tuple(b.line for b in culprit.bindings if b.kind == "assignment")
        history = await read_history(
            repo,
            file=culprit.file,
            first=culprit.statement_first,
            last=culprit.statement_last,
            extra_lines=binding_lines,
            first_seen=issue.first_seen,
            release=issue.release,
            deployed_commit=issue.commit_sha,
            window=history_window,
        )
        suspect = _suspect(history, culprit)
        if suspect is not None:
            evidence.append(
                Evidence(
                    kind="git_blame",
                    summary=(
                        f'fault lines last changed by {suspect.sha[:12]} "{suspect.subject[:100]}" '
                        f"on {suspect.date:%Y-%m-%d %H:%M}"
                        + (" — shortly before the issue was first seen" if suspect.landed_before_first_seen else "")
                    ),
                    detail=redactor.text(suspect.diff, max_length=1500) or None,
                    source=f"{culprit.file}:{culprit.statement_first}-{culprit.statement_last}",
                )
            )
        matched = glob_match(culprit.file, _protected_globs(target, config))
        if matched:
            protected = True
            evidence.append(
                Evidence(
                    kind="policy", summary=f"{culprit.file} is a protected path ({matched}): no automatic fix", source=matched
                )
            )
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
        route=(
            f"{issue.request.method or ''} {issue.request.route or issue.request.url or ''}".strip() if issue.request else None
        ),
    )


def _function_name(ctx: CodeContext) -> str:
    return ctx.function.name if ctx.function else "module code"


def _parse_trace(raw: str, issue: IssueDetected) -> tuple[StackFrame, ...]:
    """Frames of a raw trace (medic_stacktrace: Python chains and groups, V8, Firefox/Safari), else the fallback."""
    exc = issue.exception
    parsed = parse_trace(raw, error_type=exc.type if exc else None, error_value=exc.value if exc else None)
    return parsed.frames or frames_from_text(raw)


def _read_context(repo: Repository, candidate: CandidateFrame) -> CodeContext | None:
    try:
        source = repo.read_text(candidate.file)
    except (OSError, ValueError) as exc:
        log.info("cannot read %s: %s", candidate.file, exc)
        return None
    if candidate.line > len(source.splitlines()):
        log.info("frame line %d is past the end of %s (stale deploy?)", candidate.line, candidate.file)
        return None
    return code_context(source, file=candidate.file, line=candidate.line)


_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|spec|check)/|(?:^|/)test_[^/]*\.py$|_test\.py$|\.(?:test|spec)\.[jt]sx?$")


def _is_test_path(path: str) -> bool:
    return _TEST_PATH.search(path) is not None


def _suspect(history: History, ctx: CodeContext) -> SuspectSummary | None:
    commit = history.suspect
    if commit is None:
        return None
    hunk_removed, hunk_added = commit.hunk_near(ctx.statement_first, ctx.statement_last)
    return SuspectSummary(
        sha=commit.sha,
        author=commit.author,
        date=commit.date,
        subject=commit.subject,
        landed_before_first_seen=history.landed_before_first_seen,
        touches_fault_lines=history.suspect_touches_lines,
        deploy_id=history.deploy_id,
        hunk_removed=tuple(hunk_removed),
        hunk_added=tuple(hunk_added),
        other_removed=commit.other_removed,
        fault_file_added=any(status == "A" and path == ctx.file for status, path in commit.files),
        modifies_other_files=any(status != "A" and path != ctx.file and not _is_test_path(path) for status, path in commit.files),
        removed_lines=tuple(commit.removed_lines()),
        added_lines=tuple(commit.added_lines()),
        diff=commit.diff,
    )


@dataclass(frozen=True, slots=True)
class DiagnosisOutcome:
    """A diagnosis event plus what the worker should audit about how it was reached."""

    event: DiagnosisReady
    budget_exceeded: BudgetExceeded | None = None
    provider_fallback: str | None = None
    notes: tuple[str, ...] = field(default=())
    queries: tuple[QueryAttempt, ...] = ()  # database queries the provider made (audited by the worker)


def _fallback(inv: Investigation, *, reason: str, kind: str) -> Diagnosis:
    base = playbook_diagnose(inv)
    return base.adjusted(
        needs_human=True,
        fix_strategy=FixStrategy.NEEDS_HUMAN,
        evidence=(*base.evidence, Evidence(kind=kind, summary=reason[:1000], source="investigator")),
        provider="playbook",
        model="playbook-1",
        root_cause=f"{base.root_cause} (a human must decide: {reason})"[:5000],
        fix_hint=(f"suggested by the playbook: {base.fix_strategy.value}\n" + (base.fix_hint or ""))[:5000],
    )


async def run_diagnosis(
    issue: IssueDetected,
    *,
    target: TargetConfig,
    repo: Path | Repository,
    provider: DiagnosisProvider,
    memory: CaseMemory | None = None,
    config: MedicConfig | None = None,
    producer: Producer = _INVESTIGATOR,
    redactor: Redactor | None = None,
    needs_human_below: float = 0.4,
    memory_threshold: float = 0.5,
    history_window: timedelta = timedelta(days=3),
    queries: list[QueryAttempt] | None = None,
) -> DiagnosisOutcome:
    """Investigate, diagnose with ``provider``, adjust with memory and policy; ProviderUnavailable propagates.

    Database queries the provider makes are appended to ``queries`` (the caller's list survives an exception).
    """
    repository = repo if isinstance(repo, Repository) else Repository(repo)
    redactor = redactor or Redactor()
    inv = await investigate(
        issue, target=target, repo=repository, redactor=redactor, config=config, history_window=history_window
    )
    budget = config.llm_budget if config is not None else LlmBudget()
    exceeded: BudgetExceeded | None = None
    fallback: str | None = None
    queries = queries if queries is not None else []
    try:
        diagnosis = await provider.diagnose(
            inv,
            repo=repository,
            issue_id=issue.issue_id,
            budget=budget,
            severity=issue.severity.value,
            count=issue.frequency.count,
            window=issue.frequency.window_seconds,
            commit=issue.commit_sha or repository.commit,
            queries=queries,
        )
    except BudgetExceeded as exc:
        exceeded = exc
        diagnosis = _fallback(inv, reason=str(exc), kind="budget")
    except ProviderRefused as exc:
        fallback = str(exc)
        diagnosis = _fallback(inv, reason=str(exc), kind="llm_error")
    except InvalidAnswer as exc:
        fallback = str(exc)
        diagnosis = _fallback(inv, reason=f"the LLM gave no valid diagnosis: {exc}", kind="llm_invalid_output").adjusted(
            tokens=exc.tokens, cost_usd=round(exc.cost_usd, 6)
        )
    if inv.evidence:
        diagnosis = diagnosis.adjusted(evidence=(*inv.evidence, *diagnosis.evidence))
    ctx = inv.context
    tokens = signature_tokens(
        exception_type=issue.exception.type if issue.exception else "",
        message=issue.exception.value if issue.exception else issue.message,
        file=diagnosis.affected_file,
        function=diagnosis.affected_function,
        statement=ctx.statement if ctx else "",
    )
    if memory is not None:
        cases = await memory.recall(fingerprint=issue.fingerprint)
        cases = [c for c in cases if c.issue_id != issue.issue_id or c.outcome is not None]
        diagnosis = adjust_with_memory(
            diagnosis, fingerprint=issue.fingerprint, tokens=tokens, cases=cases, threshold=memory_threshold
        )
    protected = inv.protected
    if diagnosis.affected_file and not protected:
        # The provider may name another file than the culprit frame's (an LLM can be talked into anything).
        matched = glob_match(diagnosis.affected_file, _protected_globs(target, config))
        if matched:
            protected = True
            diagnosis = diagnosis.adjusted(
                evidence=(
                    *diagnosis.evidence,
                    Evidence(
                        kind="policy", summary=f"{diagnosis.affected_file} is a protected path ({matched}): no automatic fix"
                    ),
                )
            )
    if protected and not diagnosis.needs_human:
        diagnosis = diagnosis.adjusted(needs_human=True, fixability=min(diagnosis.fixability, 0.2))
    if diagnosis.affected_file is None and not diagnosis.needs_human:
        diagnosis = diagnosis.adjusted(needs_human=True, fix_strategy=FixStrategy.NEEDS_HUMAN)
    if diagnosis.fixability < needs_human_below and not diagnosis.needs_human:
        diagnosis = diagnosis.adjusted(needs_human=True)
    event = DiagnosisReady(
        producer=producer,
        issue_id=issue.issue_id,
        correlation_id=issue.correlation_id,
        causation_id=issue.event_id,
        issue=issue.brief(),
        root_cause=redactor.text(diagnosis.root_cause, max_length=4900),
        affected_file=diagnosis.affected_file,
        affected_lines=LineRange(first=diagnosis.affected_lines[0], last=diagnosis.affected_lines[1])
        if diagnosis.affected_lines
        else None,
        affected_function=diagnosis.affected_function,
        suspect_commit=_suspect_commit(inv),
        fix_strategy=diagnosis.fix_strategy,
        fix_hint=redactor.text(diagnosis.fix_hint, max_length=4900) if diagnosis.fix_hint else None,
        confidence=round(diagnosis.confidence, 3),
        fixability=round(diagnosis.fixability, 3),
        needs_human=diagnosis.needs_human,
        estimated_fix_time=timedelta(minutes=diagnosis.estimated_fix_minutes),
        evidence=tuple(_clean(e, redactor) for e in diagnosis.evidence[:40]),
        provider=diagnosis.provider,
        model=diagnosis.model,
        tokens=diagnosis.tokens,
        cost_usd=diagnosis.cost_usd,
    )
    if memory is not None:
        await memory.remember(
            PastCase(
                issue_id=issue.issue_id,
                fingerprint=issue.fingerprint,
                tokens=tokens,
                strategy=diagnosis.fix_strategy,
                affected_file=diagnosis.affected_file,
                outcome=None,
                root_cause=event.root_cause,
            )
        )
    return DiagnosisOutcome(event=event, budget_exceeded=exceeded, provider_fallback=fallback, queries=tuple(queries))


def _suspect_commit(inv: Investigation) -> SuspectCommit | None:
    s = inv.suspect
    if s is None:
        return None
    return SuspectCommit(
        sha=s.sha,
        author=s.author,
        date=s.date,
        message=s.subject[:500],
        landed_before_first_seen=s.landed_before_first_seen,
        deploy_id=s.deploy_id,
    )


def _clean(item: Evidence, redactor: Redactor) -> Evidence:
    return Evidence(
        kind=item.kind,
        summary=redactor.text(item.summary, max_length=1000),
        detail=redactor.text(item.detail, max_length=2000) if item.detail else None,
        source=redactor.text(item.source, max_length=300) if item.source else None,
    )


async def diagnose_issue(
    issue: IssueDetected,
    *,
    target: TargetConfig,
    repo: Path,
    provider: DiagnosisProvider,
    memory: CaseMemory | None = None,
    config: MedicConfig | None = None,
    producer: Producer = _INVESTIGATOR,
) -> DiagnosisReady:
    """Diagnose one issue in a checkout of the target's repository (for the benchmark and the CLI)."""
    outcome = await run_diagnosis(
        issue, target=target, repo=repo, provider=provider, memory=memory, config=config, producer=producer
    )
    return outcome.event
