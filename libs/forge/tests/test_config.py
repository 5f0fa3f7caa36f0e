"""build_forge: the [forge] section of medic.toml turned into a forge, bad values named by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ConfigError, load_target
from medic_forge import GitHubForge, LocalForge, build_forge


def test_local_section_relative_to_medic_toml(repo: Any, tmp_path: Path) -> None:
    target = tmp_path / "medic.toml"
    target.write_text(
        '[target]\nname = "shop"\nrepo = "clone"\nlanguage = "python"\ntest_command = "pytest"\n\n'
        '[forge]\nkind = "local"\nremote = "remote.git"\n',
        encoding="utf-8",
    )
    config = load_target(target)
    forge = build_forge(config.forge, base_dir=Path(config.base_dir), work_dir=tmp_path / "work")
    assert isinstance(forge, LocalForge) and forge.remote == repo.remote.resolve()


def test_github_section_reads_the_token_from_the_named_variable(tmp_path: Path) -> None:
    section = {"kind": "github", "repo": "acme/shop", "token_env": "SHOP_GH_TOKEN", "merge_method": "squash"}
    forge = build_forge(section, base_dir=tmp_path, work_dir=tmp_path / "work", environ={"SHOP_GH_TOKEN": "ghp_x"})
    assert isinstance(forge, GitHubForge)
    assert (forge.repo, forge.merge_method, forge.git_remote_url) == ("acme/shop", "squash", "https://github.com/acme/shop.git")


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({}, "forge.kind"),
        ({"kind": "gitlab"}, "forge.kind"),
        ({"kind": "local"}, "forge.remote"),
        ({"kind": "local", "remote": "nowhere.git"}, "forge.remote"),
        ({"kind": "local", "remote": "r.git", "colour": "blue"}, "forge.colour"),
        ({"kind": "github", "repo": "no-slash"}, "forge.repo"),
        ({"kind": "github", "repo": "acme/shop", "api_url": "ftp://x"}, "forge.api_url"),
        ({"kind": "github", "repo": "acme/shop", "merge_method": "octopus"}, "forge.merge_method"),
        ({"kind": "github", "repo": "acme/shop"}, "forge.token_env"),
    ],
)
def test_bad_sections_stop_start_up_naming_the_field(section: dict[str, Any], field: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        build_forge(section, base_dir=tmp_path, work_dir=tmp_path / "work", environ={})


def test_shared_section_with_the_other_kinds_defaults_and_unset_values_is_accepted(repo: Any, tmp_path: Path) -> None:
    # what another service's model_dump() of the same [forge] table looks like
    dumped = {
        "kind": "local",
        "remote": str(repo.remote),
        "repo": None,
        "api_url": "https://api.github.com",
        "token_env": "GITHUB_TOKEN",
    }
    forge = build_forge(dumped, base_dir=tmp_path)
    assert isinstance(forge, LocalForge) and forge.remote == repo.remote.resolve()


def test_local_remote_defaults_to_the_target_clones_origin(repo: Any, tmp_path: Path) -> None:
    forge = build_forge({"kind": "local"}, base_dir=tmp_path, work_dir=tmp_path / "work", repo=repo.clone)
    assert isinstance(forge, LocalForge) and forge.remote == repo.remote.resolve()
