"""Test support: fixture repositories (real git, a bare remote as the forge), diagnoses, a fake Messages API
and broker helpers.

Used by the implementer's tests and by benchmarks that need a small repository to fix.
"""

from .broker import OPERATOR, local_forge, produce, pulls, read_events, set_config, write_target
from .fake_anthropic import FakeAnthropic
from .repos import (
    GIT_ENV,
    PY_DB,
    PY_MAIN_BUG,
    PY_MAIN_GOOD,
    PY_TEST,
    PY_TEST_COMMAND,
    TS_DB,
    TS_ROUTE,
    TS_ROUTE_BUG,
    TS_ROUTE_GOOD,
    TS_TEST,
    FixtureRepo,
    diagnosis,
    git,
    make_repo,
    python_diagnosis,
    python_fixture_repo,
    tsx_bin_dir,
    write_files,
)

__all__ = [
    "GIT_ENV",
    "OPERATOR",
    "PY_DB",
    "PY_MAIN_BUG",
    "PY_MAIN_GOOD",
    "PY_TEST",
    "PY_TEST_COMMAND",
    "TS_DB",
    "TS_ROUTE",
    "TS_ROUTE_BUG",
    "TS_ROUTE_GOOD",
    "TS_TEST",
    "FakeAnthropic",
    "FixtureRepo",
    "diagnosis",
    "git",
    "local_forge",
    "make_repo",
    "produce",
    "pulls",
    "python_diagnosis",
    "python_fixture_repo",
    "read_events",
    "set_config",
    "tsx_bin_dir",
    "write_files",
    "write_target",
]
