"""Running the target repository's own type checker and linters, in the test sandbox and its own environment.

:mod:`..domain.static_checks` decides which checkers a repository configures and what argv to run; this
adapter reads the root configuration files, finds each checker *in the target's environment* and runs it
with :meth:`TestRunner.run_tool` (an argv, never a shell string; the same limits and isolation as the
tests). The target's environment is its own virtualenv (Python checkers) or ``node_modules/.bin`` (Node
checkers) when it has one — a checker missing there is not looked for elsewhere; a target without its own
environment runs its tests on the runner's tool directories, and its checkers are looked for there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..domain.static_checks import CHECK_CONFIG_FILES, Checker
from ..domain.style import CONFIG_FILES
from .testrun import TestRunner, ToolRun

__all__ = ["find_checker", "read_check_config", "run_checker"]

_MAX_CONFIG_BYTES = 500_000
_SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_VENVS = (".venv", "venv")


def read_check_config(root: Path) -> dict[str, str]:
    """The root configuration files present in a checkout (regular files only), by name."""
    configs: dict[str, str] = {}
    for name in dict.fromkeys((*CHECK_CONFIG_FILES, *CONFIG_FILES)):
        path = root / name
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= _MAX_CONFIG_BYTES:
            configs[name] = path.read_text(errors="replace")
    return configs


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_checker(checker: Checker, root: Path, tool_paths: Sequence[Path]) -> Path | None:
    """Where ``checker`` is installed for this checkout, or None (it is then recorded as skipped)."""
    name = checker.executable
    node_bin = root / "node_modules" / ".bin"
    venvs = [root / v for v in _VENVS if (root / v / "pyvenv.cfg").is_file()]
    own: list[Path] = []
    if checker.node or checker is Checker.PYRIGHT:
        own.append(node_bin)
    if not checker.node:
        own += [v / "bin" for v in venvs]
    for folder in own:
        if _runnable(folder / name):
            return folder / name
    has_own_environment = (node_bin.is_dir() if checker.node else bool(venvs)) or (
        checker is Checker.PYRIGHT and (node_bin.is_dir() or bool(venvs))
    )
    if has_own_environment:
        return None  # the target brings its own environment: a checker it lacks is not borrowed from Medic's
    found = shutil.which(name, path=os.pathsep.join([*(str(p) for p in tool_paths), *_SYSTEM_PATH]))
    return Path(found) if found else None


async def run_checker(runner: TestRunner, checker: Checker, executable: Path, *, root: Path, files: Sequence[str]) -> ToolRun:
    """Run ``checker`` in ``root`` on ``files`` (ignored by whole-project checkers)."""
    return await runner.run_tool([str(executable), *checker.args(files)], cwd=root)
