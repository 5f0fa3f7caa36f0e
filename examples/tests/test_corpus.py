"""The benchmark corpus is sound: every scenario's bug is real, its hidden check catches it, and a
correct fix exists.

The corpus is split (DESIGN.md §8) into ``dev/`` (rules are tuned on these) and ``test/`` (held out:
written before the rules that would fix them, never tuned on); scenario names are unique across both.
For each scenario: copy it to a temporary directory, ``git init`` and commit
``repo/``, commit ``bug.patch`` on top (``git am``: its own author, date and message), run
``setup_command``, run ``test_command`` (passes: the repo's own tests miss the bug), copy ``check/``
in and run ``check_command`` (fails), apply ``_reference/<name>.patch`` and run the check and the
tests again (both pass). ``events.jsonl`` must point at the fault: the innermost in-app frame of
every event is in ``[expect] fault_file`` within ``fault_lines``, and its ``context_line`` is the
real source line of the buggy checkout. Scenarios run in a small thread pool (subprocesses).
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ALWAYS_PROTECTED_PATHS, DEFAULT_PROTECTED_PATHS

CORPUS = Path(__file__).resolve().parents[1] / "scenarios"
REFERENCE = CORPUS / "_reference"
SPLITS = ("dev", "test")
FOLDERS = {p.parent.name: p.parent for split in SPLITS for p in sorted((CORPUS / split).glob("*/scenario.toml"))}
SCENARIOS = sorted(FOLDERS)
DEPLOYED_PREFIXES = ("/app/", "/var/task/", "/srv/", "app:///", "webpack://", "/usr/src/app/")
COMMAND_TIMEOUT_S = 120


def load(name: str) -> dict[str, Any]:
    with (FOLDERS[name] / "scenario.toml").open("rb") as fh:
        return tomllib.load(fh)


def events(name: str) -> list[dict[str, Any]]:
    lines = (FOLDERS[name] / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def culprit(event: dict[str, Any]) -> dict[str, Any]:
    """The innermost in-app frame of the last exception (Sentry order: innermost last)."""
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    return [f for f in frames if f.get("in_app")][-1]


def patched_files(patch: str) -> set[str]:
    return {line.removeprefix("+++ b/") for line in patch.splitlines() if line.startswith("+++ b/")} | {
        line.removeprefix("--- a/") for line in patch.splitlines() if line.startswith("--- a/")
    }


def protected(path: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(path, g) or fnmatch.fnmatch(path, g.removesuffix("/**") + "/*") for g in globs)


@dataclass
class Lifecycle:
    """What happened to one scenario, step by step (filled by the pool, asserted per scenario)."""

    name: str
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    buggy_sources: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def output(self, step: str) -> str:
        result = self.steps[step]
        return f"[{self.name}] {step}: exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def _run(command: list[str] | str, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        shell=isinstance(command, str),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def run_lifecycle(name: str, work: Path, env: dict[str, str]) -> Lifecycle:
    life = Lifecycle(name)
    scenario, spec = FOLDERS[name], load(name)
    repo = work / name
    try:
        shutil.copytree(scenario / "repo", repo)
        for step, argv in (
            ("init", ["git", "init", "-q", "-b", "main"]),
            ("add", ["git", "add", "-A"]),
            ("commit", ["git", "commit", "-q", "-m", "Initial import"]),
        ):
            life.steps[step] = _run(argv, cwd=repo, env=env)
        if (scenario / "bug.patch").exists():
            life.steps["bug"] = _run(["git", "am", "-q", str(scenario / "bug.patch")], cwd=repo, env=env)
        life.commits = _run(["git", "log", "--format=%an|%s"], cwd=repo, env=env).stdout.splitlines()
        fault = spec["expect"]["fault_file"]
        for event in events(name):
            path = culprit(event)["abs_path"]
            rel = next((p for p in (fault,) if path.endswith("/" + p)), None)
            if rel and (repo / rel).exists():
                life.buggy_sources[rel] = (repo / rel).read_text(encoding="utf-8").splitlines()
        if spec.get("setup_command"):
            life.steps["setup"] = _run(spec["setup_command"], cwd=repo, env=env)
        life.steps["tests_on_bug"] = _run(spec["test_command"], cwd=repo, env=env)
        shutil.copytree(scenario / "check", repo / "check")
        life.steps["check_on_bug"] = _run(spec["check_command"], cwd=repo, env=env)
        life.steps["reference"] = _run(["git", "apply", str(REFERENCE / f"{name}.patch")], cwd=repo, env=env)
        life.steps["check_on_fix"] = _run(spec["check_command"], cwd=repo, env=env)
        life.steps["tests_on_fix"] = _run(spec["test_command"], cwd=repo, env=env)
    except (OSError, subprocess.SubprocessError, KeyError) as exc:
        life.error = f"{type(exc).__name__}: {exc}"
    return life


@pytest.fixture(scope="module")
def lifecycles(tmp_path_factory: pytest.TempPathFactory, tool_env: dict[str, str]) -> dict[str, Lifecycle]:
    work = tmp_path_factory.mktemp("corpus")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda n: run_lifecycle(n, work, tool_env), SCENARIOS))
    return {life.name: life for life in results}


def split_of(name: str) -> str:
    return FOLDERS[name].parent.name


def test_corpus_has_the_required_spread() -> None:
    specs = {name: load(name) for name in SCENARIOS}
    languages = [s["language"] for s in specs.values()]
    assert len(SCENARIOS) >= 45
    assert languages.count("python") >= 20 and languages.count("typescript") >= 20
    assert sum((FOLDERS[n] / "bug.patch").exists() for n in SCENARIOS) >= 20
    assert 1 <= sum("setup_command" in s for s in specs.values()) <= 2
    assert all(s["name"] == n for n, s in specs.items())
    found = [p.parent.name for split in SPLITS for p in (CORPUS / split).glob("*/scenario.toml")]
    assert len(found) == len(set(found)), "scenario names are unique across the splits"
    assert not list(CORPUS.glob("*/scenario.toml")), "every scenario sits in dev/ or test/"
    for split, unfixable in (("dev", 2), ("test", 3)):
        names = [n for n in SCENARIOS if split_of(n) == split]
        assert sum(specs[n]["expect"].get("fixable", True) is False for n in names) == unfixable, split
    assert sum(split_of(n) == "test" for n in SCENARIOS) >= 28, "the held-out split has at least 28 scenarios"


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_folder_follows_the_format(name: str) -> None:
    spec = load(name)
    assert set(spec) <= {"name", "language", "test_command", "check_command", "setup_command", "protected_paths", "expect"}
    assert spec["language"] in ("python", "typescript", "javascript")
    assert set(spec["expect"]) <= {"fault_file", "fault_lines", "fixable"}
    first, last = spec["expect"]["fault_lines"]
    assert 1 <= first <= last
    assert (FOLDERS[name] / "repo").is_dir() and any((FOLDERS[name] / "check").iterdir())
    assert (REFERENCE / f"{name}.patch").is_file(), "every scenario has a reference fix outside its folder"
    assert not (FOLDERS[name] / "repo" / "check").exists(), "hidden checks must not ship inside repo/"


@pytest.mark.parametrize("name", SCENARIOS)
def test_events_are_sentry_events_pointing_at_the_fault(name: str) -> None:
    spec = load(name)
    fault, (first, last) = spec["expect"]["fault_file"], spec["expect"]["fault_lines"]
    found = events(name)
    assert len(found) >= 2
    for event in found:
        assert {"event_id", "timestamp", "platform", "level", "release", "environment", "tags", "transaction"} <= set(event)
        assert event["platform"] == ("python" if spec["language"] == "python" else "node")
        if "request" in event:  # an HTTP handler's failure; a worker job or a plain function call has none
            assert event["request"]["method"] and event["request"]["url"].startswith("https://")
            assert event["user"]["id"]
        else:
            assert event["tags"]["job"] == event["transaction"]
        for value in event["exception"]["values"]:
            assert value["type"] and value["stacktrace"]["frames"]
            for frame in value["stacktrace"]["frames"]:
                assert {"filename", "abs_path", "lineno", "function", "in_app"} <= set(frame)
                if frame["in_app"]:
                    assert frame["abs_path"].startswith(DEPLOYED_PREFIXES), frame["abs_path"]
                    assert frame["context_line"] is not None and "pre_context" in frame and "post_context" in frame
        top = culprit(event)
        assert top["abs_path"].endswith("/" + fault), f"culprit frame {top['abs_path']} is not {fault}"
        assert first <= top["lineno"] <= last, f"culprit line {top['lineno']} outside {first}-{last}"


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first test also waits for the module fixture's whole pool
@pytest.mark.parametrize("name", SCENARIOS)
def test_bug_is_real_check_catches_it_and_reference_fix_passes(name: str, lifecycles: dict[str, Lifecycle]) -> None:
    life, spec = lifecycles[name], load(name)
    assert life.error is None, life.error
    for step in ("init", "add", "commit", "bug", "setup", "reference"):
        if step in life.steps:
            assert life.steps[step].returncode == 0, life.output(step)
    if (FOLDERS[name] / "bug.patch").exists():
        assert len(life.commits) == 2 and life.commits[0].split("|")[0] != "Corpus Test", "bug.patch is its own authored commit"
    assert life.steps["tests_on_bug"].returncode == 0, life.output("tests_on_bug")
    assert life.steps["check_on_bug"].returncode != 0, "the hidden check must fail on the buggy code\n" + life.output(
        "check_on_bug"
    )
    assert life.steps["check_on_fix"].returncode == 0, life.output("check_on_fix")
    assert life.steps["tests_on_fix"].returncode == 0, life.output("tests_on_fix")
    # the events were generated from this very code: the culprit's context line is the buggy source line
    fault = spec["expect"]["fault_file"]
    for event in events(name):
        top = culprit(event)
        assert life.buggy_sources[fault][top["lineno"] - 1] == top["context_line"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_reference_fix_respects_protected_paths(name: str) -> None:
    spec = load(name)
    touched = patched_files((REFERENCE / f"{name}.patch").read_text(encoding="utf-8")) - {"/dev/null"}
    globs = DEFAULT_PROTECTED_PATHS + ALWAYS_PROTECTED_PATHS + tuple(spec.get("protected_paths", ()))
    in_protected = {path for path in touched if protected(path, globs)}
    if spec["expect"].get("fixable", True):
        assert not in_protected, f"reference fix writes protected paths {in_protected}"
    else:
        assert spec["expect"]["fault_file"] in in_protected, "an unfixable scenario's culprit sits in a protected path"
