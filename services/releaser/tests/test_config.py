"""The releaser's medic.toml sections: a bad value stops start-up naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from medic_contracts import ConfigError, load_target
from medic_releaser.config import load_releaser_target

BASE = """
[target]
name = "shop"
repo = "."
language = "typescript"
test_command = "npm test"
"""


def target(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "medic.toml"
    path.write_text(BASE + extra)
    return path


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('[forge]\nkind = "local"\nremote = "r.git"\n', "deployer"),
        ('[deployer]\nkind = "vercel"\n[forge]\nkind = "local"\nremote = "r"\n', "deployer"),
        ('[deployer]\nkind = "command"\n[deployer.staging]\nrun = "a"\ncommand = "b"\n', "deployer.staging"),
        ('[release]\nthreshold = 0\n[deployer]\nkind = "vercel"\nproject = "p"\ngit_repo = "a/b"\n', "release.threshold"),
        ('[deployer]\nkind = "vercel"\nproject = "p"\ngit_repo = "a/b"\n[forge]\nkind = "github"\n', "forge"),
        ('[deployer]\nkind = "vercel"\nproject = "p"\ngit_repo = "a/b"\n[forge]\nkind = "github"\nrepo = "a/b"\n'
         '[[notifiers]]\nkind = "slack"\n', "notifiers.items.0.slack.channel"),
    ],
)  # fmt: skip
def test_a_bad_section_names_the_field(tmp_path: Path, extra: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_releaser_target(load_target(target(tmp_path, extra)))


def test_a_complete_target_loads_with_defaults(tmp_path: Path) -> None:
    loaded = load_releaser_target(load_target(target(tmp_path, (
        '[deployer]\nkind = "vercel"\nproject = "p"\ngit_repo = "acme/shop"\n[forge]\nkind = "github"\nrepo = "acme/shop"\n'
        '[[notifiers]]\nkind = "email"\nhost = "smtp"\nsender = "m@x.io"\nto = ["o@x.io"]\n'
    ))))  # fmt: skip
    assert loaded.release.staging_watch_s == 600 and loaded.release.production_watch_s == 1800
    assert loaded.release.threshold == 3 and loaded.release.error_rate_increase == 0.2
    assert loaded.notifiers[0].kind == "email"


def test_the_service_refuses_to_start_without_a_target_file(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "MEDIC_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", "from medic_releaser.app import main; main()"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "MEDIC_TARGET_FILE" in proc.stderr
