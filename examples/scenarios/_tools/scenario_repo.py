"""Materialise a scenario folder as a real git repository (shared by the event generator and tooling).

``materialise(scenario, into)`` copies ``repo/`` into ``into``, commits it, commits ``bug.patch`` on
top with its own author, date and message (``git am``), and runs the scenario's ``setup_command``:
the same steps Medic's benchmark performs before it hands the repository to the agents.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path(__file__).resolve().parents[1]
SPLITS = ("dev", "test")
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Scenario Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Scenario Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2025-05-01T09:00:00Z",
    "GIT_COMMITTER_DATE": "2025-05-01T09:00:00Z",
}


def tool_env() -> dict[str, str]:
    """The environment scenario commands run in: tsx and the workspace Python first on PATH."""
    env = dict(os.environ)
    python_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(NODE_BIN), python_bin, env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def scenario_dir(name: str) -> Path:
    """The folder of scenario ``name``: under one of the corpus splits (``dev/``, ``test/``)."""
    found = [CORPUS / split / name for split in SPLITS if (CORPUS / split / name / "scenario.toml").is_file()]
    if len(found) != 1:
        raise LookupError(f"scenario {name!r} is in {len(found)} splits of {CORPUS} (expected exactly one)")
    return found[0]


def load_scenario(scenario: Path) -> dict[str, Any]:
    """The parsed scenario.toml of a scenario folder."""
    with (scenario / "scenario.toml").open("rb") as fh:
        return tomllib.load(fh)


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``repo`` with a fixed identity; return stdout (raises on failure)."""
    full_env = {**os.environ, **IDENTITY, **(env or {})}
    # standalone script: the core of medic_forge.git.hardened_argv inline (no hooks, no fsmonitor, literal pathspecs)
    argv = ["git", "--literal-pathspecs", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", *args]
    result = subprocess.run(argv, cwd=repo, env=full_env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def materialise(scenario: Path, into: Path) -> Path:
    """Copy the scenario's repo into ``into`` as a git repository with the bug committed; return it."""
    shutil.copytree(scenario / "repo", into)
    git(into, "init", "-q", "-b", "main")
    git(into, "add", "-A")
    git(into, "commit", "-q", "-m", "Initial import")
    patch = scenario / "bug.patch"
    if patch.exists():
        # author and date come from the patch; the committer date follows them so history reads in order
        git(into, "am", "-q", "--committer-date-is-author-date", str(patch))
    setup = load_scenario(scenario).get("setup_command")
    if setup:
        result = subprocess.run(setup, shell=True, cwd=into, env=tool_env(), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"setup_command failed in {into}: {result.stdout}{result.stderr}")
    return into
