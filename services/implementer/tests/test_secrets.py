"""The Claude API key: read from a file at call time, and never left in the implementer's environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from medic_implementer.adapters.claude import ClaudeFixer
from medic_implementer.settings import ImplementerSettings


def test_the_key_file_is_read_at_each_call_so_a_rotated_key_is_used(tmp_path: Path) -> None:
    key = tmp_path / "anthropic.key"
    key.write_text("sk-ant-first\n")
    fixer = ClaudeFixer(api_key_file=key)
    assert fixer.key() == "sk-ant-first"
    key.write_text("sk-ant-rotated\n")
    assert fixer.key() == "sk-ant-rotated"


def test_a_fixer_without_any_key_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        ClaudeFixer()


def test_settings_take_the_key_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "anthropic.key"
    key.write_text("sk-ant-file")
    monkeypatch.setenv("MEDIC_ANTHROPIC_API_KEY_FILE", str(key))
    monkeypatch.delenv("MEDIC_ANTHROPIC_API_KEY", raising=False)
    settings = ImplementerSettings()
    assert settings.anthropic_api_key_file == key and settings.anthropic_api_key is None
    assert settings.has_anthropic_key()


def test_a_key_given_in_the_environment_is_removed_from_it_after_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_ANTHROPIC_API_KEY", "sk-ant-from-env")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-sdk-var")
    settings = ImplementerSettings()
    removed = settings.scrub_secret_environment()
    assert {"MEDIC_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"} <= set(removed)
    assert "MEDIC_ANTHROPIC_API_KEY" not in os.environ and "ANTHROPIC_API_KEY" not in os.environ
    # The settings keep it; a child started now (inheriting the environment) does not get it.
    assert settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value() == "sk-ant-from-env"
    child = subprocess.run(["env"], capture_output=True, text=True, check=True).stdout
    assert "sk-ant-from-env" not in child and "sk-ant-sdk-var" not in child
