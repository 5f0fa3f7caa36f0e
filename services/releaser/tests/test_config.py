"""The releaser's medic.toml sections: a bad value stops start-up naming the field."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medic_contracts import ActionRecorded, ActionStatus, ConfigError, DeploymentResult, TopicRegistry, load_target
from medic_releaser.app import build
from medic_releaser.config import load_releaser_target
from medic_releaser.settings import ReleaserSettings

from .harness import EventLog, fix_event, make_repo, publish

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


def test_a_bad_target_file_stops_start_up_naming_the_field(tmp_path: Path) -> None:
    bad = target(tmp_path, '[deployer]\nkind = "vercel"\n')
    env = {"PATH": "/usr/bin:/bin", "MEDIC_DATA_DIR": str(tmp_path), "MEDIC_TARGET_FILE": str(bad)}
    proc = subprocess.run([sys.executable, "-c", "from medic_releaser.app import main; main()"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "deployer" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.kafka
async def test_without_a_target_file_fixes_are_recorded_as_not_released(
    service_settings: Callable[..., Any], kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    rt = build(service_settings("releaser", cls=ReleaserSettings, data_dir=tmp_path / "releaser"))
    await rt.start()
    try:
        fix = fix_event(make_repo(tmp_path / "repo"), issue_id="iss_bare", behaviour={"version": 2})
        async with EventLog(kafka_bootstrap, topics) as log:
            await publish(kafka_bootstrap, topics, fix)
            found = await log.wait_for(
                lambda ev: [e for e in ev if isinstance(e, ActionRecorded) and e.action == "releaser.unconfigured"]
            )
        assert found[0].status is ActionStatus.FAILED and "not released" in found[0].summary
        assert not log.of(DeploymentResult)
    finally:
        await rt.stop()
