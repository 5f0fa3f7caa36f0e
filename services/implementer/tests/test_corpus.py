"""``medic bench implement``: the fixer alone on a scenario folder, checked by the scenario's hidden test."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from medic_lab.fix_corpus import run_corpus
from medic_testing.implementer import PY_DB, PY_MAIN_BUG, PY_TEST, PY_TEST_COMMAND, write_files

CHECK = """import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from app.main import app


def test_unknown_practice_is_a_404() -> None:
    assert TestClient(app, raise_server_exceptions=False).get("/api/practices/999").status_code == 404
"""


def scenario(root: Path, name: str, **extra: str) -> None:
    folder = root / name
    write_files(
        folder / "repo", {"app/__init__.py": "", "app/db.py": PY_DB, "app/main.py": PY_MAIN_BUG, "tests/test_main.py": PY_TEST}
    )
    write_files(folder / "check", {"test_check.py": CHECK})
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    (folder / "scenario.toml").write_text(
        f'name = "{name}"\nlanguage = "python"\ntest_command = "{PY_TEST_COMMAND}"\n'
        'check_command = "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python -m pytest -q -p no:cacheprovider check"\n'
        f'{lines}\n\n[expect]\nfault_file = "app/main.py"\nfault_lines = [11, 11]\n'
        + ("fixable = false\n" if "protected_paths" in extra else "")
    )
    event = {
        "exception": {"values": [{"type": "AttributeError", "value": "'NoneType' object has no attribute 'id'"}]},
        "request": {"method": "GET", "url": "https://clinic.example/api/practices/999", "query_string": ""},
    }
    (folder / "events.jsonl").write_text(json.dumps(event) + "\n")


async def test_the_fixer_fixes_a_fixable_scenario_and_refuses_one_in_a_protected_path(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    scenario(corpus, "practice-none")
    scenario(corpus, "practice-protected", protected_paths='["app/**"]')
    report = await run_corpus(corpus, work=tmp_path / "work", tool_paths=(Path(sys.executable).parent,))
    by_name = {s["name"]: s for s in report["scenarios"]}
    assert by_name["practice-none"]["fixed"] and by_name["practice-none"]["outcome"] == "committed", report
    assert by_name["practice-protected"]["outcome"] == "refused"
    assert report["totals"] == {
        "n": 2,
        "fixable": 1,
        "fixed": 1,
        "fixed_ratio": 1.0,
        "unfixable_refused": 1,
        "unfixable": 1,
        "protected_violations": 0,
        "median_seconds": by_name["practice-none"]["seconds"],
    }
