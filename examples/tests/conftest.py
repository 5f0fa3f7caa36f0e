"""Fixtures for the example-app and corpus tests: the shared Node tools and a tool environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """tools/node/node_modules/.bin with tsx, installed from the committed lock file when missing."""
    if not (NODE_BIN / "tsx").exists():
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "install-node-tools.sh")], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            pytest.fail(f"could not install tools/node (npm ci): {result.stdout}{result.stderr}")
    return NODE_BIN


@pytest.fixture(scope="session")
def tool_env(node_tools: Path) -> dict[str, str]:
    """Environment for example commands: tsx and the workspace Python first on PATH, fixed git identity."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(node_tools), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # example and scenario suites use no pytest plugins; skipping the workspace's saves ~0.6 s per run
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(
        GIT_AUTHOR_NAME="Corpus Test",
        GIT_AUTHOR_EMAIL="corpus@example.com",
        GIT_COMMITTER_NAME="Corpus Test",
        GIT_COMMITTER_EMAIL="corpus@example.com",
    )
    for key in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "NODE_OPTIONS"):
        env.pop(key, None)
    return env
