"""The implementer alone on a scenario corpus (DESIGN.md §8 format), with the fault location given.

``medic bench fix`` measures detection → diagnosis → fix; this measures the fixer in isolation:
each scenario's diagnosis is built from its own ``[expect]`` (fault file and lines) and the first
event of ``events.jsonl`` (exception, failing request), so a miss here is the fixer's, not the
investigator's. Per scenario it reports whether a fix was committed, whether the repository's
tests and the scenario's hidden ``check/`` pass on it, whether any protected path was written, and
the seconds from the diagnosis to the commit.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from medic_contracts import (
    AutonomyLevel,
    DiagnosisReady,
    Evidence,
    FixStrategy,
    IssueBrief,
    IssueType,
    LineRange,
    MedicConfig,
    Producer,
    RequestContext,
    Severity,
    SuspectCommit,
    TargetConfig,
    utcnow,
)
from medic_implementer.adapters.forge import LocalForge
from medic_implementer.adapters.testrun import SandboxLimits
from medic_implementer.job import FixOptions, implement_fix, protected_writes

from . import scenario_repo

__all__ = ["SCENARIO_ENV", "ScenarioResult", "check_fix", "materialise", "oracle_diagnosis", "run_corpus"]

_IDENTITY = {
    "GIT_AUTHOR_NAME": "Scenario Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Scenario Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's outcome."""

    name: str
    outcome: str
    strategy: str
    fixed: bool
    protected_untouched: bool
    expected_refusal: bool
    seconds: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


#: The corpus's suites use no pytest plugins (examples/scenarios/README.md): not loading the workspace's
#: (hypothesis, schemathesis, xdist, ...) takes a Python test run from about 2.2 s to 0.4 s.
SCENARIO_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def _env(tool_paths: tuple[Path, ...]) -> dict[str, str]:
    env = {**os.environ, **_IDENTITY, **SCENARIO_ENV}
    env["PATH"] = os.pathsep.join([*(str(p) for p in tool_paths), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _git(repo: Path, *args: str) -> str:
    return scenario_repo.git(repo, *args)


def materialise(scenario: Path, into: Path, *, tool_paths: tuple[Path, ...]) -> tuple[Path, Path]:
    """The scenario as a clone (bug committed, setup run) with a bare remote holding main and staging."""
    made = scenario_repo.materialise(scenario, into / "clone", setup_env=_env(tool_paths), remote=into / "remote.git")
    return made.repo, into / "remote.git"


def _strategy(exc_type: str, value: str) -> FixStrategy:
    text = f"{exc_type}: {value}"
    if "empty" in text.lower():
        return FixStrategy.EMPTY_ITERABLE_GUARD
    if any(
        word in text for word in ("null", "undefined", "NoneType", "unsupported operand", "NoResultFound", "No row was found")
    ):
        return FixStrategy.NULL_GUARD
    if exc_type == "KeyError":
        return FixStrategy.MISSING_KEY_GUARD
    if exc_type == "IndexError":
        return FixStrategy.BOUNDS_GUARD
    if "zero" in text.lower():
        return FixStrategy.ZERO_GUARD
    return FixStrategy.REVERT_COMMIT


def oracle_diagnosis(scenario: Path, clone: Path) -> DiagnosisReady:
    """A diagnosis with the scenario's true fault location and its first event's exception and request."""
    meta = tomllib.loads((scenario / "scenario.toml").read_text())
    event = json.loads((scenario / "events.jsonl").read_text().splitlines()[0])
    exc = event["exception"]["values"][-1]
    raw = event.get("request") or {}
    data = raw.get("data")
    request = RequestContext(
        method=raw.get("method"),
        url=raw.get("url"),
        query=raw.get("query_string") or None,
        body=json.dumps(data) if isinstance(data, dict | list) else data,
    )
    head = _git(clone, "rev-parse", "HEAD")
    expect = meta["expect"]
    suspect = (
        SuspectCommit(
            sha=head,
            author="Scenario Author <author@example.com>",
            date=utcnow(),
            message=_git(clone, "log", "-1", "--format=%s"),
        )
        if (scenario / "bug.patch").exists()
        else None
    )
    return DiagnosisReady(
        producer=Producer(service="bench", instance="oracle"),
        issue_id=f"iss_{meta['name']}"[:60],
        issue=IssueBrief(
            target=meta["name"][:60].lower(),
            service="web",
            title=f"{exc['type']}: {exc.get('value', '')}"[:500],
            severity=Severity.P2,
            issue_type=IssueType.API_ERROR,
            fingerprint=meta["name"],
            commit_sha=head,
        ),
        root_cause="fault location given by the scenario (oracle)",
        affected_file=expect["fault_file"],
        affected_lines=LineRange(first=expect["fault_lines"][0], last=expect["fault_lines"][1]),
        suspect_commit=suspect,
        fix_strategy=_strategy(exc["type"], exc.get("value", "")),
        confidence=1.0,
        fixability=1.0,
        estimated_fix_time=timedelta(minutes=1),
        evidence=(Evidence(kind="request", summary="failing request", detail=request.model_dump_json()),),
        provider="oracle",
    )


def _prepare(
    scenario: Path, work: Path, tool_paths: tuple[Path, ...]
) -> tuple[dict[str, Any], Path, Path, TargetConfig, DiagnosisReady]:
    meta = tomllib.loads((scenario / "scenario.toml").read_text())
    clone, remote = materialise(scenario, work, tool_paths=tool_paths)
    protected: dict[str, Any] = {"protected_paths": tuple(meta["protected_paths"])} if "protected_paths" in meta else {}
    target = TargetConfig(
        name="bench",
        repo=str(clone),
        language=meta["language"],
        test_command=meta["test_command"],
        setup_command=meta.get("setup_command"),
        test_timeout_s=300,
        **protected,
    )
    return meta, clone, remote, target, oracle_diagnosis(scenario, clone)


def check_fix(
    scenario: Path, meta: dict[str, Any], *, clone: Path, commit: str, work: Path, tool_paths: tuple[Path, ...]
) -> bool:
    """The repository's tests and the scenario's hidden check, on a checkout of the fix."""
    check = work / "check"
    _git(clone, "worktree", "add", "-q", "--detach", str(check), commit)
    env = _env(tool_paths)
    if meta.get("setup_command"):
        subprocess.run(meta["setup_command"], shell=True, cwd=check, env=env, capture_output=True, check=False)  # noqa: S602
    shutil.copytree(scenario / "check", check / "check")
    checked = subprocess.run(meta["check_command"], shell=True, cwd=check, env=env, capture_output=True, check=False)  # noqa: S602
    tested = subprocess.run(meta["test_command"], shell=True, cwd=check, env=env, capture_output=True, check=False)  # noqa: S602
    return checked.returncode == 0 and tested.returncode == 0


async def run_scenario(scenario: Path, work: Path, *, tool_paths: tuple[Path, ...]) -> ScenarioResult:
    """Materialise, fix with an oracle diagnosis, then run the tests and the hidden check on the fix."""
    name, expected_refusal = scenario.name, False
    try:
        meta, clone, remote, target, diagnosis = await asyncio.to_thread(_prepare, scenario, work, tool_paths)
        name, expected_refusal = meta.get("name", scenario.name), meta.get("expect", {}).get("fixable") is False
        limits = SandboxLimits(timeout_s=300, tool_paths=tool_paths, extra_env=dict(SCENARIO_ENV))
        options = FixOptions(workspace_root=work / "worktrees", limits=limits)
        started = time.monotonic()
        outcome = await implement_fix(
            diagnosis,
            target=target,
            repo=clone,
            options=options,
            forge=LocalForge(remote, work / "forge"),
            config=MedicConfig(autonomy_level=AutonomyLevel.FULL),
        )
        seconds = round(time.monotonic() - started, 2)
        fixed, untouched = False, True
        if outcome.commit_sha:
            untouched = not await protected_writes(repo=clone, base=outcome.base_sha, head=outcome.commit_sha, target=target)
            fixed = await asyncio.to_thread(
                lambda: check_fix(scenario, meta, clone=clone, commit=str(outcome.commit_sha), work=work, tool_paths=tool_paths)
            )
        return ScenarioResult(name, outcome.kind.value, outcome.strategy.value, fixed, untouched, expected_refusal, seconds)
    except Exception as exc:  # one broken scenario must not end the run
        return ScenarioResult(name, "error", "", False, True, expected_refusal, 0.0, repr(exc)[:500])


def _scenarios(corpus: Path) -> list[Path]:
    """The corpus's scenario folders, with those of its ``dev/`` and ``test/`` splits (DESIGN.md §8)."""
    folders = [corpus, *(corpus / split for split in ("dev", "test") if (corpus / split).is_dir())]
    return sorted(p for folder in folders for p in folder.iterdir() if (p / "scenario.toml").exists())


async def run_corpus(corpus: Path, *, work: Path, tool_paths: tuple[Path, ...] | None = None) -> dict[str, Any]:
    """Every scenario in ``corpus``: per-scenario results and totals (fixed counts only fixable scenarios)."""
    root = await asyncio.to_thread(corpus.resolve)
    tools = tool_paths or (root.parents[1] / "tools" / "node" / "node_modules" / ".bin", Path(sys.executable).parent)
    results = [await run_scenario(s, work / s.name, tool_paths=tools) for s in await asyncio.to_thread(_scenarios, corpus)]
    fixable = [r for r in results if not r.expected_refusal]
    refused = [r for r in results if r.expected_refusal]
    seconds = [r.seconds for r in results if r.outcome == "committed"]
    return {
        "scenarios": [r.as_dict() for r in results],
        "totals": {
            "n": len(results),
            "fixable": len(fixable),
            "fixed": sum(r.fixed for r in fixable),
            "fixed_ratio": round(sum(r.fixed for r in fixable) / len(fixable), 3) if fixable else 0.0,
            "unfixable_refused": sum(r.outcome == "refused" for r in refused),
            "unfixable": len(refused),
            "protected_violations": sum(not r.protected_untouched for r in results),
            "median_seconds": round(statistics.median(seconds), 2) if seconds else None,
        },
    }
