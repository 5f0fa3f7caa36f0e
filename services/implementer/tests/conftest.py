"""Fixtures of the implementer's tests: fixture repositories, signing keys, fix options."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medic_implementer.adapters.signing import CommitSigner
from medic_implementer.adapters.testrun import SandboxLimits
from medic_implementer.job import FixOptions
from medic_testing.implementer import (
    TS_DB,
    TS_ROUTE,
    TS_ROUTE_BUG,
    TS_ROUTE_GOOD,
    TS_TEST,
    FixtureRepo,
    make_repo,
    python_fixture_repo,
    tsx_bin_dir,
)


@pytest.fixture
def python_repo(tmp_path: Path) -> FixtureRepo:
    """A FastAPI-style app whose latest commit dropped the None check on a practice lookup."""
    return python_fixture_repo(tmp_path)


@pytest.fixture
def typescript_repo(tmp_path: Path) -> FixtureRepo:
    """A Next.js-style route handler whose latest commit dropped the null check."""
    if tsx_bin_dir() is None:
        pytest.skip("tsx not installed (make install puts it in tools/node)")
    return make_repo(
        tmp_path,
        good={
            "package.json": '{"name": "shop", "private": true, "type": "module"}\n',
            "src/lib/db.ts": TS_DB,
            TS_ROUTE: TS_ROUTE_GOOD,
            "src/app/api/practices/[id]/route.test.ts": TS_TEST,
        },
        bug={TS_ROUTE: TS_ROUTE_BUG},
        language="typescript",
        test_command="tsx --test $(find src -name '*.test.ts')",
    )


@pytest.fixture
def signing_key(tmp_path: Path) -> Path:
    """A throwaway ed25519 key for commit signing."""
    key = tmp_path / "keys" / "medic_ed25519"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "medic", "-f", str(key)], check=True)
    return key


@pytest.fixture
def fix_options(tmp_path: Path) -> Callable[..., FixOptions]:
    """FixOptions for tests: worktrees under tmp_path, the venv's and tsx's bin on PATH, short limits."""

    def make(**overrides: Any) -> FixOptions:
        tools = [Path(sys.executable).parent]
        tsx = tsx_bin_dir()
        if tsx is not None:
            tools.append(tsx)
        values: dict[str, Any] = {
            "workspace_root": tmp_path / "worktrees",
            "limits": SandboxLimits(timeout_s=120, tool_paths=tuple(tools)),
            "signer": CommitSigner(key=None),
            "push_backoff_s": 0.05,
        }
        values.update(overrides)
        return FixOptions(**values)

    return make
