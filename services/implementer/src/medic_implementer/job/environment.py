"""Environment step, after ``setup_command``: the target's own tools first on ``PATH`` for every run of the job.

A Python target's virtualenv (``.venv`` or ``venv``, made by its setup command) and a Node target's
``node_modules/.bin`` come before Medic's tool directories, so the tests, the reproduction and the
verification run on the target's interpreter and dependencies — never on Medic's own virtualenv.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..adapters.testrun import TestRunner
from .context import FixJob

__all__ = ["target_tool_paths", "use_target_environment"]

_VENVS = (".venv", "venv")


def target_tool_paths(root: Path) -> tuple[tuple[Path, ...], Path | None]:
    """The worktree's own tool directories (virtualenv ``bin``, ``node_modules/.bin``) and its virtualenv, if any."""
    venv = next((root / v for v in _VENVS if (root / v / "pyvenv.cfg").is_file() and (root / v / "bin").is_dir()), None)
    paths = [venv / "bin"] if venv is not None else []
    if (root / "node_modules" / ".bin").is_dir():
        paths.append(root / "node_modules" / ".bin")
    return tuple(paths), venv


def use_target_environment(job: FixJob, root: Path) -> None:
    """Run the rest of the job with the target's environment first on ``PATH`` (audited when one is found)."""
    paths, venv = target_tool_paths(root)
    if not paths:
        return
    limits = job.runner.limits
    env = {**limits.extra_env, **({"VIRTUAL_ENV": str(venv)} if venv is not None else {})}
    job.runner = TestRunner(replace(limits, tool_paths=(*paths, *limits.tool_paths), extra_env=env), redactor=job.runner.redactor)
