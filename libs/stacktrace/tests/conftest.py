"""Helpers for medic_stacktrace tests: run real failing programs and collect their traces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_EVENTS = REPO_ROOT.parent / "shared" / "data" / "sentry-events"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def write_tree() -> Callable[[Path, dict[str, str]], list[str]]:
    """Write files (relative path → text) under a root; return the relative paths (a file list)."""

    def write(root: Path, files: dict[str, str]) -> list[str]:
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return sorted(files)

    return write


@pytest.fixture(scope="session")
def sentry_events_dir() -> Path:
    """The shared real Sentry events (../shared/data/sentry-events beside the checkout)."""
    assert SHARED_EVENTS.is_dir(), f"shared test data missing: {SHARED_EVENTS}"
    return SHARED_EVENTS


@pytest.fixture(scope="session")
def tsapp_dir() -> Path:
    """The TypeScript fixture app with its committed tsc and esbuild outputs (see its build.sh)."""
    return FIXTURES / "tsapp"


@pytest.fixture
def run_python() -> Callable[[Path, str], str]:
    """Run ``python -m module`` in a directory and return its stderr (the traceback); it must fail."""

    def run(cwd: Path, module: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = str(cwd)
        env["NO_COLOR"] = "1"
        result = subprocess.run(
            [sys.executable, "-m", module], cwd=cwd, capture_output=True, text=True, timeout=60, env=env, check=False
        )
        assert result.returncode != 0, f"expected {module} to fail, it printed: {result.stdout}"
        return result.stderr

    return run


@pytest.fixture
def run_node() -> Callable[..., str]:
    """Run node on a script (extra args allowed) and return stderr; skip when node is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/install-system.sh installs nodejs)")

    def run(cwd: Path, *args: str) -> str:
        result = subprocess.run([node, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode != 0, f"expected node {args} to fail, it printed: {result.stdout}"
        return result.stderr

    return run


@pytest.fixture
def node_tool() -> Callable[[str], Path]:
    """Find a JavaScript tool (tsx, esbuild) in the workspace's tools/node or on PATH, else skip."""

    def find(name: str) -> Path:
        if shutil.which("node") is None:
            pytest.skip("node is not installed (scripts/install-system.sh installs nodejs)")
        local = REPO_ROOT / "tools" / "node" / "node_modules" / ".bin" / name
        if local.exists():
            return local
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed (tools/node, installed by `make install`, provides it)")
        return Path(found)

    return find
