"""One materialiser: every benchmark and the corpus tooling build a scenario's repository the same way."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from medic_lab import diagnosis_corpus, fix_corpus, scenario_repo

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "scenarios" / "dev" / "py-order-missing-key"


def _tools_materialise() -> object:
    spec = importlib.util.spec_from_file_location("scenario_repo_tool", ROOT / "examples/scenarios/_tools/scenario_repo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.materialise


def test_the_benchmarks_and_the_corpus_tool_build_the_same_history(tmp_path: Path) -> None:
    made = scenario_repo.materialise(SCENARIO, tmp_path / "lab" / "repo", remote=tmp_path / "lab" / "remote.git")
    diag_repo, diag_bug = asyncio.run(diagnosis_corpus.materialise(diagnosis_corpus.load_scenario(SCENARIO), tmp_path / "diag"))
    fix_clone, fix_remote = fix_corpus.materialise(SCENARIO, tmp_path / "fix", tool_paths=())
    tool_repo = _tools_materialise()(SCENARIO, tmp_path / "tool")  # type: ignore[operator]

    def history(repo: Path) -> str:
        return scenario_repo.git(repo, "log", "--format=%H %an %aI %cI %s")

    expected = history(made.repo)
    assert [history(r) for r in (diag_repo, fix_clone, tool_repo)] == [expected] * 3
    assert made.bug_sha == diag_bug == scenario_repo.git(fix_clone, "rev-parse", "HEAD")
    lines = expected.splitlines()
    assert len(lines) == 2 and lines[1].endswith("Initial import")
    # The application is committed 30 days before the bug (its patch's own date), by the scenario author.
    bug_date, app_date = lines[0].split()[2], lines[1].split()[2]
    assert app_date < bug_date and " Scenario Author " in f" {lines[1]} "
    # Both benchmarks that deploy get main and staging on the bare remote.
    for remote in (made.remote, fix_remote):
        assert remote is not None
        assert scenario_repo.git(remote, "rev-parse", "main") == scenario_repo.git(remote, "rev-parse", "staging") == made.bug_sha


def test_a_scenario_without_a_patch_has_one_commit_and_a_failing_setup_names_its_output(tmp_path: Path) -> None:
    scenario = tmp_path / "s"
    (scenario / "repo").mkdir(parents=True)
    (scenario / "repo" / "app.py").write_text("x = 1\n")
    (scenario / "scenario.toml").write_text('name = "s"\nsetup_command = "echo no-such-dependency >&2; exit 3"\n')
    made = scenario_repo.materialise(scenario, tmp_path / "a")
    assert made.bug_sha is None and len(scenario_repo.git(made.repo, "log", "--format=%H").splitlines()) == 1
    with pytest.raises(RuntimeError, match=r"setup_command failed(.|\n)*no-such-dependency"):
        scenario_repo.materialise(scenario, tmp_path / "b", setup_env={"PATH": "/usr/bin:/bin"})
