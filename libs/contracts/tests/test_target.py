from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from medic_contracts import ConfigError, load_target, section


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "medic.toml"
    path.write_text(text)
    return path


def test_target_file_loads_with_sections_and_relative_repo(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[target]
name = "shop"
repo = "app"
language = "typescript"
test_command = "npm test"

[[sources]]
kind = "logfile"
path = "logs/app.jsonl"

[deployer]
kind = "command"
""",
    )
    target = load_target(path)
    assert target.repo_path() == (tmp_path / "app").resolve()
    assert target.sources[0]["kind"] == "logfile"
    assert target.deployer == {"kind": "command"}


def test_bad_target_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[target]\nname = "Shop!"\nrepo = "."\nlanguage = "cobol"\ntest_command = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_target(path)
    assert "target.name" in str(err.value) and "target.language" in str(err.value)


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[target]\nname = "s"\nrepo = "."\nlanguage = "python"\ntest_command = "pytest"\n[deploy]\nx=1\n')
    with pytest.raises(ConfigError, match="unknown section"):
        load_target(path)


class Deployer(BaseModel):
    kind: str
    url: str


def test_section_errors_name_the_section_field() -> None:
    with pytest.raises(ConfigError, match=r"deployer\.url"):
        section(Deployer, {"kind": "vercel"}, name="deployer")
