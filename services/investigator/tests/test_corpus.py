"""Scenario corpora: materialise with history, diagnose, score localisation (DESIGN.md §8 format)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from medic_contracts import FixStrategy
from medic_investigator.adapters.providers import PlaybookProvider
from medic_lab.diagnosis_corpus import diagnose_scenario, find_scenarios, load_scenario, materialise, scenario_issue

from .helpers import BASE_DATE, git, make_repo, write
from .test_playbook_python import DB, ROUTES_BUGGY, ROUTES_GOOD

CORPUS = Path(__file__).resolve().parents[3] / "examples" / "scenarios" / "dev"  # the split the rules are tuned on


def _sentry_event(trace_repo: Path) -> dict[str, object]:
    """A Sentry-protocol event built from a real run (frames from the real traceback, deployed under /app/)."""
    code = (
        "import json, sys, traceback\n"
        "from app.routes import practice_detail\n"
        "try:\n    practice_detail('404')\n"
        "except Exception as exc:\n"
        "    frames = [{'filename': f.filename.replace(sys.argv[1], 'app'),\n"
        "               'abs_path': f.filename.replace(sys.argv[1], '/app'),\n"
        "               'lineno': f.lineno, 'function': f.name, 'context_line': f.line, 'in_app': True}\n"
        "              for f in traceback.extract_tb(exc.__traceback__)]\n"
        "    print(json.dumps({'platform': 'python', 'timestamp': '2026-11-25T11:00:00Z', 'release': 'clinic@1.9.0',\n"
        "        'exception': {'values': [{'type': type(exc).__name__, 'value': str(exc),\n"
        "                                  'stacktrace': {'frames': frames}}]}}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(trace_repo.resolve())], cwd=trace_repo, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _scenario(tmp_path: Path) -> Path:
    """A scenario folder whose bug.patch is a real `git format-patch` of the bad change."""
    source, _ = make_repo(tmp_path / "source", {**DB, "app/routes.py": ROUTES_GOOD})
    folder = tmp_path / "corpus" / "py-practice"
    shutil.copytree(source, folder / "repo", ignore=shutil.ignore_patterns(".git"))
    write(source, {"app/routes.py": ROUTES_BUGGY})
    git(source, "commit", "-qam", "Load practice details in one query", date=BASE_DATE + timedelta(days=5))
    patch = git(source, "format-patch", "-1", "--stdout")
    (folder / "bug.patch").write_text(patch)
    event = _sentry_event(source)
    (folder / "events.jsonl").write_text(json.dumps(event) + "\n")
    (folder / "scenario.toml").write_text(
        'name = "py-practice"\nlanguage = "python"\ntest_command = "python -m pytest -q"\n'
        'check_command = "python -m pytest -q check"\n\n[expect]\nfault_file = "app/routes.py"\nfault_lines = [6, 6]\n'
    )
    return folder


async def test_a_scenario_is_materialised_with_its_bug_as_a_commit_and_localised(tmp_path: Path) -> None:
    folder = _scenario(tmp_path)
    scenario = load_scenario(folder)
    issue = scenario_issue(scenario)
    assert issue is not None and issue.frames[-1].file == "app/routes.py"  # the watcher's builder: a repository path
    repo, bug_sha = await materialise(scenario, tmp_path / "work")
    log = git(repo, "log", "--format=%H %s").splitlines()
    assert len(log) == 2 and log[0] == f"{bug_sha} Load practice details in one query"

    result = await diagnose_scenario(scenario, workdir=tmp_path / "work", provider=PlaybookProvider())

    assert result.error is None and result.localization.file and result.localization.lines
    assert result.diagnosis is not None and result.diagnosis.fix_strategy == FixStrategy.REVERT_COMMIT
    assert result.diagnosis.suspect_commit is not None and result.diagnosis.suspect_commit.landed_before_first_seen
    row = result.as_json()
    assert row["localized_lines"] and row["predicted_lines"] == [6, 6] and row["expected_lines"] == [6, 6]


async def test_a_corpus_given_by_a_relative_path_is_materialised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    (scenario,) = find_scenarios(Path("corpus"))
    result = await diagnose_scenario(scenario, workdir=Path("work"), provider=PlaybookProvider())
    assert result.error is None and result.localization.lines, result.error
    assert folder.resolve() == scenario.path


async def test_a_wrong_expectation_scores_as_not_localised_and_a_broken_scenario_reports_its_error(tmp_path: Path) -> None:
    folder = _scenario(tmp_path)
    text = (folder / "scenario.toml").read_text().replace("fault_lines = [6, 6]", "fault_lines = [9, 12]")
    (folder / "scenario.toml").write_text(text)
    result = await diagnose_scenario(load_scenario(folder), workdir=tmp_path / "work", provider=PlaybookProvider())
    assert result.localization.file and not result.localization.lines
    (folder / "bug.patch").write_text("From 0 Mon Sep 17 00:00:00 2001\nnot a patch\n")
    broken = await diagnose_scenario(load_scenario(folder), workdir=tmp_path / "work2", provider=PlaybookProvider())
    assert broken.diagnosis is None and broken.error is not None and "git am" in broken.error


@pytest.mark.skipif(not CORPUS.is_dir(), reason="examples/scenarios/dev is not in this checkout")
async def test_the_playbook_localises_the_example_corpus(tmp_path: Path) -> None:
    scenarios = find_scenarios(CORPUS)
    results = [await diagnose_scenario(s, workdir=tmp_path, provider=PlaybookProvider()) for s in scenarios]
    located = [r for r in results if r.scenario.fault_file]
    assert len(located) >= 20
    misses = [r.as_json() for r in located if not r.localization.file]
    assert misses == []  # top-1 file: 100 %
    lines = sum(r.localization.lines for r in located) / len(located)
    assert lines >= 0.9, [r.as_json() for r in located if not r.localization.lines]
    for r in results:
        if not r.scenario.fixable:
            assert r.diagnosis is not None and r.diagnosis.needs_human, r.scenario.name
