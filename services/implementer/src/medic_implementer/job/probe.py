"""What the reproduce and input-search steps share: the reproducer, running a generated program, where tests go."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..adapters.workspace import Workspace
from ..domain.function_regression import python_function_test
from ..domain.guard import PathGuard
from ..domain.regression import RegressionTest
from ..domain.reproduction import OBSERVE_ENV
from .context import FixJob, write_guarded

__all__ = [
    "Reproducer",
    "observe_text",
    "python_function_reproducer",
    "python_test_dir",
    "regression_stem",
    "typescript_test_layout",
]

_OBSERVED = ".medic-observed.json"  # written by the program in its cwd, read and removed right after the run


@dataclass(frozen=True)
class Reproducer:
    """The generated reproducing test, and how to regenerate it pinned to an expected outcome."""

    test: RegressionTest
    pinned: Callable[[dict[str, Any]], RegressionTest | None]


async def observe_text(
    job: FixJob, ws: Workspace, guard: PathGuard, *, path: str, content: str, command: str, cwd: str = ""
) -> tuple[bool, str]:
    """Write a generated program, run it alone in the sandbox: (passed, the text it left where MEDIC_OBSERVE says)."""
    write_guarded(guard, path, content)
    folder = ws.path / cwd
    marker = folder / _OBSERVED
    marker.unlink(missing_ok=True)
    run = await job.runner.run(f"{OBSERVE_ENV}={shlex.quote(_OBSERVED)} {command}", cwd=folder)
    try:
        text = marker.read_text(errors="replace") if marker.is_file() and not marker.is_symlink() else ""
    finally:
        marker.unlink(missing_ok=True)
    return run.passed, text


def python_test_dir(files: dict[str, str]) -> str:
    """Where generated Python tests go: the project's shallowest folder of ``test_*.py`` files, else ``tests``."""
    test_dirs = sorted({str(Path(p).parent) for p in files if re.search(r"(^|/)test_[^/]*\.py$", p)}, key=len)
    return test_dirs[0] if test_dirs else "tests"


def regression_stem(issue_id: str) -> str:
    """The file name (without suffix) of an issue's generated TypeScript regression test."""
    return "medic-regression-" + re.sub(r"[^A-Za-z0-9]+", "-", issue_id)[:30]


def typescript_test_layout(ws: Workspace, names: list[str], affected: str, stem: str) -> tuple[str, str]:
    """(test file, package folder) for a generated TypeScript test named ``stem``: beside the project's own tests
    when it has some (their tsconfig/paths apply there), else beside ``affected``; run from its package."""
    existing = sorted(n for n in names if re.search(r"\.(test|spec)\.[cm]?[jt]sx?$", n))
    folder = Path(existing[0]).parent if existing else Path(affected).parent
    test_file = str(folder / f"{stem}.test{Path(affected).suffix}")
    package = next(
        (
            d
            for d in (folder, *folder.parents)
            if (ws.path / d / "package.json").is_file() or (ws.path / d / "tsconfig.json").is_file()
        ),
        None,
    )
    return test_file, "" if package is None or str(package) == "." else str(package)


def python_function_reproducer(
    *, issue_id: str, title: str, file: str, function: str, arguments: dict[str, str], test_dir: str
) -> Reproducer:
    """A module-level Python function called with ``arguments`` (literal texts), pinned on demand."""

    def call(expected: dict[str, Any] | None) -> RegressionTest:
        return python_function_test(
            issue_id=issue_id,
            title=title,
            file=file,
            function=function,
            arguments=arguments,
            test_dir=test_dir,
            expected=expected,
        )

    return Reproducer(call(None), call)
