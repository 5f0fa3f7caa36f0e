"""The command deployer's ``build`` step: it runs in the new checkout while the previous process still serves, and a
failed build fails the deploy with its output and leaves the previous deployment serving."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import httpx
import pytest
import tomli_w

from medic_contracts import ConfigError, DeploymentStage, load_target
from medic_forge import LocalForge
from medic_releaser.adapters.deployers import CommandDeployer, DeploymentStatus
from medic_releaser.app import build_deployer
from medic_releaser.config import load_releaser_target
from medic_releaser.domain.errors import DeployError

from .conftest import deploy_initial
from .harness import Target, make_repo, wait_http, write_target

PYTHON = shutil.which("python3") or "python3"
# Writes `built` in the checkout only if the stage's previous process answered while the build ran.
PROBE = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5); open('built', 'w').write('{sha}')"


def with_build(target: Target, build: str) -> CommandDeployer:
    """A deployer for the same stages and state, whose production stage builds with ``build``."""
    data = tomllib.loads(target.toml.read_text())
    data["deployer"]["production"]["build"] = build
    toml = target.toml.with_name("medic-build.toml")
    toml.write_text(tomli_w.dumps(data))
    deployer = build_deployer(
        load_releaser_target(load_target(toml)),
        forge=LocalForge(target.repo.remote, target.repo.root / "forge-work"),
        data_dir=target.state_dir,
    )
    assert isinstance(deployer, CommandDeployer)
    return deployer


@pytest.mark.slow
async def test_the_build_runs_while_the_previous_process_serves_and_a_failed_build_keeps_it_serving(tmp_path: Path) -> None:
    target = write_target(make_repo(tmp_path / "t"))
    first = await deploy_initial(target)
    health = f"{target.production.url}/health"
    branch, sha, _ = target.repo.make_fix("iss_build", {"fail": False})
    deployer = with_build(target, f'{PYTHON} -c "{PROBE.format(sha="{sha}")}" {health}')
    try:
        started = await deployer.start(stage=DeploymentStage.PRODUCTION, ref=branch, sha=sha, key="build-ok")
        await wait_http(health)
        entry = deployer._read(DeploymentStage.PRODUCTION)["current"]
        assert Path(entry["checkout"], "built").read_text() == sha, "the build did not run while the old process served"
        assert await deployer.status(stage=DeploymentStage.PRODUCTION, deployment=started) is DeploymentStatus.READY

        failing = with_build(target, f"{PYTHON} -c \"import sys; print('tsc: 3 errors'); sys.exit(3)\"")
        with pytest.raises(DeployError, match=r"build exited 3: .*tsc: 3 errors"):
            await failing.start(stage=DeploymentStage.PRODUCTION, ref=branch, sha=sha, key="build-fails")
        current = await failing.current(stage=DeploymentStage.PRODUCTION)
        assert current is not None and current.id == started.id
        assert httpx.get(health, timeout=5).status_code == 200
    finally:
        await deployer.stop_all()
        await first.stop_all()


def test_build_is_only_for_run_mode(tmp_path: Path) -> None:
    toml = tmp_path / "medic.toml"
    toml.write_text(
        '[target]\nname = "shop"\nrepo = "."\nlanguage = "python"\ntest_command = "true"\n'
        '[deployer]\nkind = "command"\n[deployer.staging]\ncommand = "deploy.sh"\nbuild = "make"\n'
        '[deployer.production]\nrun = "app"\n[forge]\nkind = "local"\nremote = "r.git"\n'
    )
    with pytest.raises(ConfigError, match="build is for run"):
        load_releaser_target(load_target(toml))
