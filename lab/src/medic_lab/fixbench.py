"""``medic bench fix``: detection → diagnosis → fix on every scenario of a corpus (DESIGN.md §8).

Each scenario is made a real repository (the application committed, the bug committed on top with its
own author and date, ``setup_command`` run) with a bare remote holding ``main`` and ``staging``. Then,
in-process and with the offline providers, exactly what the services do:

1. **detect** — the watcher's grouping and severity over the scenario's Sentry events
   (``medic_watcher.job.detect.detect_from_sentry_events``);
2. **diagnose** — the investigator's playbook (``medic_investigator.job.diagnose.diagnose_issue``);
3. **fix** — the implementer (``medic_implementer.job.implement_fix``): candidates, guard,
   sandboxed test runs, regression test, commit on ``agent/fix-<issue>``, push and pull request on
   the local forge.

Scored per scenario: detected, localized (top-1 file, top-1 line range overlapping the fault),
fixed (the repository's tests and the hidden ``check/`` pass on the fix commit), protected paths
untouched, and seconds from the first event to FixCommitted. A scenario marked
``[expect] fixable = false`` is right when nothing is written and the issue goes to a human.

Whether a fix is *right* is scored too: ``reproduced`` (the kept fix reproduced the failure, as the
fix outcome reports it; null when it does not say), ``released`` (committed and releasable without a
human under the policy), ``wrong_commit`` (committed, but the hidden check or the tests fail on it,
or the scenario is not fixable at all) and ``abstained`` (nothing committed, or a commit that waits
for a human's approval). Totals add ``precision`` (right commits ÷ commits). A corpus split into
``dev/`` and ``test/`` gets one totals block per split under ``splits``; each scenario names its split.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medic_contracts import AutonomyLevel, IssueDetected, MedicConfig, Severity, TargetConfig

__all__ = ["SPLITS", "FixScenarioResult", "run_fix_benchmark", "run_fix_scenario"]

SPLITS = ("dev", "test")  # DESIGN.md §8: tune rules on dev/, measure generalization on test/


@dataclass(frozen=True, slots=True)
class FixScenarioResult:
    """One scenario's result (the DESIGN.md §8 keys, plus what helps read it)."""

    name: str
    detected: bool
    localized_file: bool
    localized_lines: bool
    fixed: bool
    protected_untouched: bool
    seconds: float
    error: str | None = None
    fixable: bool = True
    outcome: str = ""
    strategy: str = ""
    severity: str = ""
    diagnosed_file: str | None = None
    escalated: bool = False
    split: str | None = None
    committed: bool = False
    reproduced: bool | None = None
    released: bool = False
    wrong_commit: bool = False
    abstained: bool = True
    #: Why Medic did not commit, or what its release gate said (its own words, for reading an abstention).
    why: tuple[str, ...] = ()
    #: The implementer's audited steps for this scenario, in order (what it tried and what each step said).
    trail: tuple[str, ...] = ()


def _tool_paths(corpus: Path) -> tuple[Path, ...]:
    here = Path(__file__).resolve()
    candidates = [p / "tools" / "node" / "node_modules" / ".bin" for p in (*here.parents, *corpus.parents)]
    node = next((c for c in candidates if c.is_dir()), None)
    return (*((node,) if node else ()), Path(sys.executable).parent)


def _most_urgent(issues: list[IssueDetected]) -> IssueDetected | None:
    return min(issues, key=lambda i: (i.severity.rank, -i.frequency.count)) if issues else None


def _reproduced(outcome: Any) -> bool | None:
    """Whether the kept fix reproduced the failure: the outcome's own flag, else its kept candidate's."""
    flag = getattr(outcome, "reproduced", None)
    if isinstance(flag, bool):
        return flag
    if not outcome.commit_sha and not outcome.needs_approval:
        return None
    kept = [
        c
        for c in outcome.candidates
        if c.get("strategy") == outcome.strategy.value and c.get("description") == outcome.description[:300]
    ]
    value = kept[0].get("reproduced") if kept else None
    return value if isinstance(value, bool) else None


def _why(diagnosis: Any, outcome: Any) -> tuple[str, ...]:
    """Medic's own reasons: the diagnosis's when it asked for a human, the outcome's, the release gate's verdict."""
    why: list[str] = []
    if diagnosis.needs_human:
        why.append(f"diagnosis: {diagnosis.root_cause}"[:300])
    why.extend(str(r)[:300] for r in outcome.reasons)
    if not outcome.commit_sha:  # what each candidate tried came to
        for c in outcome.candidates:
            tail = str(c.get("test_summary", "")).strip().splitlines()[-1:] or [""]
            why.append(f"candidate {c.get('strategy')}: {c.get('description')} → tests {c.get('tests')}: {tail[0]}"[:300])
    if outcome.verification:
        why.append(f"gate: {outcome.verification}"[:300])
    return tuple(why)


def _split(scenario_dir: Path) -> str | None:
    return scenario_dir.parent.name if scenario_dir.parent.name in SPLITS else None


async def run_fix_scenario(scenario_dir: Path, work: Path, *, tool_paths: tuple[Path, ...]) -> FixScenarioResult:
    """Materialise one scenario and run it through detection, diagnosis and fix; errors become its result."""
    from medic_forge import LocalForge
    from medic_implementer.adapters.testrun import SandboxLimits
    from medic_implementer.job import FixOptions, implement_fix, protected_writes
    from medic_investigator.adapters.providers import PlaybookProvider
    from medic_investigator.job.diagnose import diagnose_issue
    from medic_lab import scenario_repo
    from medic_lab.diagnosis_corpus import load_scenario, score_localization
    from medic_lab.fix_corpus import SCENARIO_ENV, check_fix
    from medic_watcher.job.detect import detect_from_sentry_events

    meta = tomllib.loads((scenario_dir / "scenario.toml").read_text(encoding="utf-8"))
    name = str(meta.get("name", scenario_dir.name))
    fixable = meta.get("expect", {}).get("fixable", True) is not False
    split = _split(scenario_dir)
    try:
        scenario = load_scenario(scenario_dir)
        events = [json.loads(line) for line in (scenario_dir / "events.jsonl").read_text().splitlines() if line.strip()]
        made = await asyncio.to_thread(
            scenario_repo.materialise, scenario.path, work / scenario.name / "repo", remote=work / "remote.git"
        )
        repo, remote = made.repo, work / "remote.git"
        target = TargetConfig.model_validate(
            {
                "name": "bench",
                "repo": str(repo),
                "language": scenario.language,
                "test_command": scenario.test_command,
                "setup_command": scenario.setup_command,
                **({"protected_paths": scenario.protected_paths} if scenario.protected_paths else {}),
            }
        )
        config = MedicConfig(autonomy_level=AutonomyLevel.FULL)
        started = time.monotonic()
        issue = _most_urgent(detect_from_sentry_events(events, target=target, config=config))
        if issue is None:
            return FixScenarioResult(name, False, False, False, False, True, 0.0, "no issue detected", fixable, split=split)
        diagnosis = await diagnose_issue(issue, target=target, repo=repo, provider=PlaybookProvider())
        loc = score_localization(diagnosis, fault_file=scenario.fault_file or "", fault_lines=scenario.fault_lines)
        limits = SandboxLimits(timeout_s=300, tool_paths=tool_paths, extra_env=dict(SCENARIO_ENV))
        options = FixOptions(workspace_root=work / "worktrees", limits=limits)
        trail: list[str] = []

        def audit(action: str, status: Any, summary: str, _details: dict[str, Any]) -> None:
            trail.append(f"{action} {getattr(status, 'value', status)}: {summary}"[:300])

        outcome = await implement_fix(
            diagnosis,
            audit=audit,
            target=target,
            repo=repo,
            options=options,
            forge=LocalForge(remote, work / "forge"),
            config=config,
            request=issue.request,
        )
        seconds = round(time.monotonic() - started, 2)
        fixed, untouched = False, True
        if outcome.commit_sha and outcome.base_sha:
            untouched = not await protected_writes(repo=repo, base=outcome.base_sha, head=outcome.commit_sha, target=target)
            fixed = await asyncio.to_thread(
                check_fix, scenario_dir, meta, clone=repo, commit=str(outcome.commit_sha), work=work, tool_paths=tool_paths
            )
        escalated = diagnosis.needs_human or outcome.kind.value in ("needs_approval", "needs_human", "refused")
        committed = bool(outcome.commit_sha) and outcome.kind.value == "committed"
        return FixScenarioResult(
            name=name,
            detected=True,
            localized_file=loc.file,
            localized_lines=loc.lines,
            fixed=fixed,
            protected_untouched=untouched,
            seconds=seconds,
            fixable=fixable,
            outcome=outcome.kind.value,
            strategy=outcome.strategy.value if outcome.strategy else "",
            severity=issue.severity.value,
            diagnosed_file=diagnosis.affected_file,
            escalated=escalated,
            split=split,
            committed=committed,
            reproduced=_reproduced(outcome),
            released=committed and not outcome.needs_approval,
            wrong_commit=committed and not (fixed and fixable),
            abstained=not committed or outcome.needs_approval,
            why=_why(diagnosis, outcome),
            trail=tuple(trail),
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        return FixScenarioResult(name, False, False, False, False, True, 0.0, error, fixable, split=split)


def _select(corpus: Path, only: set[str] | None) -> tuple[list[Path], tuple[Path, ...]]:
    """The scenario folders of ``corpus``: its own, and those of its ``dev/`` and ``test/`` splits."""
    folders = [corpus, *(corpus / split for split in SPLITS if (corpus / split).is_dir())]
    scenarios = sorted(
        (p.absolute() for folder in folders for p in folder.iterdir() if (p / "scenario.toml").is_file()),
        key=lambda p: (p.parent.name if p.parent.name in SPLITS else "", p.name),
    )
    if only:
        scenarios = [p for p in scenarios if p.name in only]
    return scenarios, _tool_paths(corpus.resolve())


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def totals(results: list[FixScenarioResult]) -> dict[str, Any]:
    """The totals block of a set of scenario results (the whole corpus, or one split)."""
    fixable = [r for r in results if r.fixable]
    unfixable = [r for r in results if not r.fixable]
    committed = [r for r in results if r.committed]
    right = [r for r in committed if not r.wrong_commit]
    seconds = [r.seconds for r in committed]
    return {
        "n": len(results),
        "detected": sum(r.detected for r in results),
        "localized_file": sum(r.localized_file for r in fixable),
        "localized_lines": sum(r.localized_lines for r in fixable),
        "fixed": sum(r.fixed for r in fixable),
        "fixable": len(fixable),
        "fixed_ratio": _ratio(sum(r.fixed for r in fixable), len(fixable)),
        "localized_file_ratio": _ratio(sum(r.localized_file for r in fixable), len(fixable)),
        "localized_lines_ratio": _ratio(sum(r.localized_lines for r in fixable), len(fixable)),
        "unfixable": len(unfixable),
        "unfixable_escalated_without_write": sum(r.escalated and not r.committed for r in unfixable),
        "protected_violations": sum(not r.protected_untouched for r in results),
        "committed": len(committed),
        "right_commits": len(right),
        "wrong_commits": sum(r.wrong_commit for r in results),
        "precision": _ratio(len(right), len(committed)) if committed else None,
        "reproduced": sum(r.reproduced is True for r in results),
        "released": sum(r.released for r in results),
        "abstained": sum(r.abstained for r in results),
        "errors": sum(r.error is not None for r in results),
        "median_seconds": round(statistics.median(seconds), 2) if seconds else None,
        "severity": {s.value: sum(r.severity == s.value for r in results) for s in Severity},
    }


async def run_fix_benchmark(corpus: Path, *, work: Path, only: set[str] | None = None) -> dict[str, Any]:
    """Every scenario of ``corpus`` in turn; per-scenario results, totals and per-split totals (DESIGN.md §8)."""
    scenarios, tools = await asyncio.to_thread(_select, corpus, only)
    results = [await run_fix_scenario(p, work / (p.parent.name + "-" + p.name), tool_paths=tools) for p in scenarios]
    report: dict[str, Any] = {"scenarios": [asdict(r) for r in results], "totals": totals(results)}
    splits = sorted({r.split for r in results if r.split}, key=lambda s: (SPLITS.index(s), s))
    if splits:
        report["splits"] = {split: totals([r for r in results if r.split == split]) for split in splits}
    return report
