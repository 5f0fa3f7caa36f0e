"""Scenario corpora (DESIGN.md §8): load a scenario, materialise its repository, diagnose it, score localisation.

The benchmark (``medic bench diagnosis``, and the lead's ``medic bench fix``) calls these
in-process. A scenario's repository is made real by the one materialiser
(:mod:`medic_lab.scenario_repo`: ``repo/`` committed, then ``bug.patch`` as its own commit with its
author date), so blame and the suspect-commit logic see the same history production would.
"""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medic_contracts import DiagnosisReady, IssueDetected, TargetConfig
from medic_investigator.adapters.providers import DiagnosisProvider
from medic_investigator.job.diagnose import diagnose_issue
from medic_watcher.job.detect import detect_from_sentry_events

from . import scenario_repo

__all__ = [
    "Localization",
    "Scenario",
    "ScenarioDiagnosis",
    "diagnose_scenario",
    "find_scenarios",
    "load_scenario",
    "materialise",
    "scenario_issue",
    "score_localization",
]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario folder."""

    name: str
    path: Path
    language: str
    test_command: str
    check_command: str | None
    setup_command: str | None
    protected_paths: tuple[str, ...] | None
    fault_file: str | None
    fault_lines: tuple[int, int] | None
    fixable: bool


def load_scenario(path: Path) -> Scenario:
    """Read ``scenario.toml`` (ValueError naming the field when it is malformed)."""
    path = path.resolve()  # git runs in the materialised repository: every path it gets must be absolute
    data = tomllib.loads((path / "scenario.toml").read_text(encoding="utf-8"))
    expect = data.get("expect", {})
    lines = expect.get("fault_lines")
    if lines is not None and (not isinstance(lines, list) or len(lines) != 2 or not all(isinstance(n, int) for n in lines)):
        raise ValueError(f"{path}/scenario.toml: expect.fault_lines must be [first, last]")
    for key in ("name", "language", "test_command"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"{path}/scenario.toml: {key} is required")
    protected = data.get("protected_paths")
    return Scenario(
        name=data["name"],
        path=path,
        language=data["language"],
        test_command=data["test_command"],
        check_command=data.get("check_command"),
        setup_command=data.get("setup_command"),
        protected_paths=tuple(protected) if isinstance(protected, list) else None,
        fault_file=expect.get("fault_file"),
        fault_lines=(lines[0], lines[1]) if lines else None,
        fixable=bool(expect.get("fixable", True)),
    )


def find_scenarios(corpus: Path) -> list[Scenario]:
    """Every scenario folder of a corpus, by name (folders starting with ``_`` are tooling).

    A corpus split into ``dev/`` and ``test/`` (DESIGN.md §8) yields the scenarios of both splits.
    """
    found: list[Scenario] = []
    for p in sorted(corpus.iterdir()):
        if not p.is_dir() or p.name.startswith(("_", ".")):
            continue
        if (p / "scenario.toml").is_file():
            found.append(load_scenario(p))
        elif p.name in ("dev", "test"):
            found.extend(find_scenarios(p))
    return found


def _events(scenario: Scenario) -> list[dict[str, Any]]:
    path = scenario.path / "events.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def scenario_issue(scenario: Scenario) -> IssueDetected | None:
    """The issue the scenario's events stand for, as the watcher builds it (None when it has no events).

    The watcher's one Sentry -> IssueDetected builder, with frames resolved against the scenario's
    project tree; the most urgent issue when the events group into several.
    """
    events = _events(scenario)
    if not events:
        return None
    target = TargetConfig.model_validate(
        {
            "name": scenario.name.lower()[:63],
            "repo": str(scenario.path / "repo"),
            "language": scenario.language,
            "test_command": scenario.test_command,
        }
    )
    issues = detect_from_sentry_events(events, target=target)
    return issues[0] if issues else None


async def materialise(scenario: Scenario, workdir: Path) -> tuple[Path, str | None]:
    """The scenario's git repository in ``workdir`` (:func:`medic_lab.scenario_repo.materialise`); (path, bug sha)."""
    made = await asyncio.to_thread(scenario_repo.materialise, scenario.path, workdir / scenario.name / "repo")
    return made.repo, made.bug_sha


@dataclass(frozen=True, slots=True)
class Localization:
    """How a diagnosis localised a scenario's fault."""

    file: bool  # the affected file is the expected one
    lines: bool  # and the affected line range overlaps the expected one


def _norm(path: str) -> str:
    return path.replace("\\", "/").removeprefix("./").removeprefix("repo/")


def score_localization(diagnosis: DiagnosisReady, *, fault_file: str, fault_lines: tuple[int, int] | None) -> Localization:
    """Top-1 file: same repository file; top-1 lines: the predicted range overlaps ``fault_lines``."""
    same_file = diagnosis.affected_file is not None and _norm(diagnosis.affected_file) == _norm(fault_file)
    if not same_file or fault_lines is None or diagnosis.affected_lines is None:
        return Localization(file=same_file, lines=same_file and fault_lines is None)
    first, last = fault_lines
    overlap = diagnosis.affected_lines.first <= last and diagnosis.affected_lines.last >= first
    return Localization(file=True, lines=overlap)


@dataclass(frozen=True, slots=True)
class ScenarioDiagnosis:
    """One scenario's diagnosis and score."""

    scenario: Scenario
    diagnosis: DiagnosisReady | None
    localization: Localization
    seconds: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The per-scenario row of the benchmark's JSON."""
        d = self.diagnosis
        return {
            "name": self.scenario.name,
            "detected": d is not None,
            "localized_file": self.localization.file,
            "localized_lines": self.localization.lines,
            "predicted_file": d.affected_file if d else None,
            "predicted_lines": [d.affected_lines.first, d.affected_lines.last] if d and d.affected_lines else None,
            "expected_file": self.scenario.fault_file,
            "expected_lines": list(self.scenario.fault_lines) if self.scenario.fault_lines else None,
            "fix_strategy": d.fix_strategy.value if d else None,
            "needs_human": d.needs_human if d else None,
            "expected_fixable": self.scenario.fixable,
            "confidence": d.confidence if d else None,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


async def diagnose_scenario(
    scenario: Scenario, *, workdir: Path, provider: DiagnosisProvider, repo: Path | None = None
) -> ScenarioDiagnosis:
    """Materialise (unless ``repo`` is given) and diagnose one scenario; errors are reported, not raised."""
    started = time.perf_counter()
    issue = scenario_issue(scenario)
    if issue is None:
        return ScenarioDiagnosis(scenario, None, Localization(False, False), 0.0, "no events")
    try:
        if repo is None:
            repo, _ = await materialise(scenario, workdir)
        target = TargetConfig.model_validate(
            {
                "name": issue.target,
                "repo": str(repo),
                "language": scenario.language,
                "test_command": scenario.test_command,
                **({"protected_paths": scenario.protected_paths} if scenario.protected_paths else {}),
            }
        )
        diagnosis = await diagnose_issue(issue, target=target, repo=repo, provider=provider)
    except Exception as exc:  # one broken scenario must not stop the benchmark; its error is the result
        return ScenarioDiagnosis(
            scenario, None, Localization(False, False), time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
        )
    score = (
        score_localization(diagnosis, fault_file=scenario.fault_file, fault_lines=scenario.fault_lines)
        if scenario.fault_file
        else Localization(False, False)
    )
    return ScenarioDiagnosis(scenario, diagnosis, score, time.perf_counter() - started)
