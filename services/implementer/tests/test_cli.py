"""``medic implement`` runs the implementer once and prints the outcome as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medic.main import main
from medic_testing.implementer import FixtureRepo, git, python_diagnosis


def test_medic_implement_refuses_a_protected_file_and_prints_why(
    python_repo: FixtureRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "medic.toml"
    toml.write_text(
        f'[target]\nname = "shop"\nrepo = "{python_repo.path}"\nlanguage = "python"\ntest_command = "true"\n\n'
        f'[forge]\nkind = "local"\nremote = "{python_repo.remote}"\n'
    )
    diag = tmp_path / "diagnosis.json"
    diag.write_text(python_diagnosis(python_repo, affected_file=".github/workflows/deploy.yml").model_dump_json())
    code = main(["implement", "--target", str(toml), "--diagnosis", str(diag), "--workdir", str(tmp_path / "wt")])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["kind"] == "refused" and out["refusals"][0]["path"] == ".github/workflows/deploy.yml"
    assert git(python_repo.remote, "branch", "--list", "agent/*") == ""


def test_medic_implement_names_a_bad_target_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "medic.toml"
    toml.write_text('[target]\nname = "shop"\nrepo = "."\nlanguage = "cobol"\ntest_command = "true"\n')
    diag = tmp_path / "d.json"
    diag.write_text("{}")
    assert main(["implement", "--target", str(toml), "--diagnosis", str(diag)]) == 2
    assert "target.language" in capsys.readouterr().err
