"""Setting up the demo's world: the example shop's repository and target file, and its deployments.

The demo deploys the healthy shop itself, as the team did before Medic, with the releaser's own
deployer (same state directory), so the releaser later finds the deployments it has to replace.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import tomli_w

from medic_contracts import DeploymentStage
from medic_forge.git import hardened_argv, hardened_env

from .scenario import Scenario

__all__ = [
    "build_shop_deployer",
    "deploy",
    "git",
    "is_ancestor",
    "load_example",
    "repo_root",
    "stop_deployments",
    "tune_target",
]


def repo_root() -> Path:
    """The Medic checkout the demo runs from (it bundles examples/ and tools/)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "examples" / "shop" / "setup_repo.py").is_file():
            return parent
    raise RuntimeError("medic demo runs from a Medic checkout (examples/shop not found)")


def load_example(path: Path, name: str) -> ModuleType:
    """Import one of the example shop's scripts (setup_repo.py, traffic.py) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def tune_target(path: Path, *, scenario: Scenario, fast: bool) -> None:
    """Shorter windows for the demo (and shorter still for tests); the rollback scenario's staging fault."""
    target: dict[str, Any] = tomllib.loads(path.read_text())
    windows = (
        {"staging_watch_s": 12, "production_watch_s": 15, "sample_interval_s": 2, "baseline_s": 6, "threshold": 2}
        if fast
        else {"staging_watch_s": 24, "production_watch_s": 30, "sample_interval_s": 3, "baseline_s": 9, "threshold": 2}
    )
    release: dict[str, Any] = target.setdefault("release", {})
    release.update(windows)
    # a blocked or waiting run asks again within seconds, not minutes
    release.update({"blocked_retry_s": 3, "approval_poll_s": 1})
    if scenario == "rollback":
        # The fix's staging deployment runs with a slow database: latency far above the baseline.
        target["deployer"]["staging"]["env"] = {"SHOP_DB_LATENCY_MS": "250"}
    path.write_text(tomli_w.dumps(target))


def build_shop_deployer(medic_toml: Path, *, scenario: Scenario, work: Path, clone: Path) -> Any:
    """The releaser's deployer for the shop's target, with the demo's own forge working copy."""
    from medic_contracts import load_target
    from medic_forge import build_forge
    from medic_releaser.app import build_deployer
    from medic_releaser.config import load_releaser_target

    target = load_releaser_target(load_target(medic_toml))
    if scenario == "rollback":  # the fault belongs to the fix's deployment, not to the one running now
        staging = target.deployer.staging.model_copy(update={"env": {}}) if target.deployer.staging else None
        target = target.model_copy(update={"deployer": target.deployer.model_copy(update={"staging": staging})})
    forge = build_forge(
        dict(target.target.forge), base_dir=Path(target.target.base_dir), work_dir=work / "demo-forge", repo=clone
    )
    return build_deployer(target, forge=forge, data_dir=work)


async def deploy(stage: DeploymentStage, deployer: Any, sha: str) -> None:
    """Deploy ``sha`` to ``stage`` and wait until it is ready (as the team did before Medic)."""
    from medic_releaser.adapters.deployers import DeploymentStatus

    ref = await deployer.start(stage=stage, ref=sha, sha=sha, key=f"demo-{stage.value}-{sha[:10]}")
    for _ in range(240):
        status = await deployer.status(stage=stage, deployment=ref)
        if status is DeploymentStatus.READY:
            return
        if status is DeploymentStatus.ERROR:
            raise RuntimeError(f"the {stage.value} deployment of {sha[:10]} did not start")
        await asyncio.sleep(0.25)
    raise RuntimeError(f"the {stage.value} deployment of {sha[:10]} was not ready in time")


async def stop_deployments(deployer: Any) -> None:
    """Stop the shop processes the demo and the releaser started (they outlive a releaser on purpose)."""
    stop_all = getattr(deployer, "stop_all", None)
    if stop_all is not None:
        await stop_all()


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` (hardened, as Medic's agents run it); its stdout, or a RuntimeError."""
    argv = [*hardened_argv(), *args]
    done = subprocess.run(argv, cwd=repo, env=hardened_env(os.environ), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def is_ancestor(repo: Path, commit: str, ref: str) -> bool:
    """Whether ``commit`` is reachable from ``ref`` in ``repo``."""
    argv = [*hardened_argv(), "merge-base", "--is-ancestor", commit, ref]
    done = subprocess.run(argv, cwd=repo, env=hardened_env(os.environ), capture_output=True, check=False)
    return done.returncode == 0
